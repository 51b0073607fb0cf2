"""Schemathesis hooks for `make fuzz`: the server's rules that OpenAPI 3.0's JSON Schema cannot
state, so that a schema-valid request refused for one of them, with a message naming that rule,
is not reported as the server being wrong. Every other refusal of schema-valid data still fails.

Each entry is a phrase of the server's 400 message and the rule behind it.
"""
import schemathesis

UNEXPRESSIBLE_RULES = {
    "is given more than once": "tag keys are unique within a request (uniqueness by member)",
    "is given twice": "subnet ids are unique within a request, compared after normalising",
    "A user is named twice": "user names are unique, compared case-insensitively",
    "is both added and removed": "a user cannot be both added to and removed from an ACL",
    "does not exist in this group's family": "parameter names come from the group's own family",
    "is not in ACL": "UserNamesToRemove names only the ACL's members (state, not shape)",
    "must be at least 60 minutes": "maintenance and snapshot windows last at least an hour",
    "can't be deleted": "built-in objects reached through stateful links (the path schema excludes them)",
    "can't be modified": "built-in objects reached through stateful links (the path schema excludes them)",
    "overlap; choose windows apart": "the maintenance and snapshot windows do not overlap",
    "A cluster without TLS can only use ACL": "the ACL must suit the stored cluster's TLS setting (state, not shape)",
    "requires aclName 'open-access'": "a cluster without TLS may only use the open-access ACL",
    "can't be reset": "built-in parameter groups reached through stateful links",
    "a cluster may have at most 500": "at most 500 nodes: numShards × (1 + numReplicasPerShard), a product",
    "is already in use on 127.0.0.1": "a requested endpoint port must be free on this machine (state, not shape)",
    "this server's engine needs": "a cluster's parameter group must be of its engine's family (a stored group's family)",
    "A resource may have at most 200 tags": "the quota counts the tags the resource already has (state, not shape)",
    "accessString": "the Redis ACL access-string grammar with its command and category names",
    "Give snapshotName or snapshotArns, not both": "a restore has one source (a `not` over two members crashes schemathesis' coverage phase)",
    "tags cannot be given with targetBucket": "an export is plain files, which carry no tags",
    "Give exactly one of availabilityZone, node or shard": "a drill has one target (oneOf over required members crashes schemathesis' coverage phase)",
    "not found (looked for": "an export named by snapshotArns must exist under the export directory (state, not shape)",
    "is not a bucket name": "a bucket inside an S3 ARN is 3-63 characters without '..' (bounded quantifiers in that pattern crash schemathesis)",
    "has no node '": "a drill's node must be one of the cluster's (state, not shape)",
    "is in availability zone": "a drill's zone must hold a node of the cluster (state, not shape)",
    "already runs node type": "NoOperationFault: the cluster already has that node type (state, not shape)",
    "so its data would not fit": "a smaller node type must hold what each shard holds now (state, not shape)",
    "replica(s) per shard.": "NoOperationFault: the cluster already has that many replicas (state, not shape)",
    "shard(s).": "NoOperationFault: the cluster already has that many shards (state, not shape)",
    "already has every value given": "NoOperationFault: an update in which nothing differs (state, not shape)",
    "in two updates": "the shard count and the replica count change in separate updates (a rule across two members)",
    "still has": "a resharding's drained shards are not yet removed (state, not shape)",
    "no pending service update": "BatchUpdateCluster: the cluster has nothing to apply (state, not shape)",
    "would take every node of shard": "a drill must leave each shard a node (state, not shape)",
    "it is neither in the document's": "a stack's references name resources in the document or existing ones (state, not shape)",
    "was sent to /v1/stacks/": "a stack document's `stack` is the name in its path (a rule across body and path)",
    "has no effect with dryRun=true": "a plan is not waited for: dryRun and wait are not given together (a rule across two parameters)",
    "a no-password user takes no passwords": "a stack user's passwords go with its authentication type (a rule across two members)",
    "a password user needs 1 or 2 passwords": "a stack user's passwords go with its authentication type (a rule across two members)",
    "is named twice in": "names are unique within a stack section, compared case-insensitively",
    "may contain only ASCII letters, digits and hyphens": "a resource name is letters, digits and single hyphens (the same rule as the resource's own API)",
}


# The fault that says a path's own resource is missing; any other *NotFoundFault names a resource
# the body refers to (a user added to an ACL, the ACL of a cluster), which is not the resource
# the stateful phase just created.
OWN_NOT_FOUND = {
    "/v1/clusters/": "ClusterNotFoundFault",
    "/v1/users/": "UserNotFoundFault",
    "/v1/acls/": "ACLNotFoundFault",
    "/v1/subnet-groups/": "SubnetGroupNotFoundFault",
    "/v1/parameter-groups/": "ParameterGroupNotFoundFault",
    "/v1/snapshots/": "SnapshotNotFoundFault",
    "/v1/drills/": "DrillNotFoundFault",
    "/v1/stacks/": "StackNotFoundFault",
    "/v1/access-keys/": "AccessKeyNotFoundFault",
}


def _error(response):
    try:
        body = response.json()
        return body.get("error") or {"code": body.get("__type"), "message": body.get("message")}
    except Exception:
        return {}


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure except the documented, deliberate behaviours below."""
    code = getattr(failure, "code", None)
    error = _error(response)
    # Out of node ports: a documented 503 InsufficientClusterCapacityFault, not a server fault.
    if code == "ST101" and response.status_code == 503 and error.get("code") == "InsufficientClusterCapacityFault":
        return False
    # Deletion is asynchronous, as on AWS: the cluster stays visible in status "deleting".
    if code == "ST301" and response.status_code == 200:
        try:
            if response.json().get("status") == "deleting":
                return False
        except Exception:
            pass
    if code == "ST302" and response.status_code == 404:
        own = next((fault for prefix, fault in OWN_NOT_FOUND.items() if case.path.startswith(prefix)), None)
        if own and error.get("code") != own:
            return False
    if code == "ST202" and response.status_code == 400:
        message = error.get("message") or ""
        return not any(phrase in message for phrase in UNEXPRESSIBLE_RULES)
    return True


# The AWS door (POST /) speaks application/x-amz-json-1.1 and wants SigV4: serialise its bodies
# as JSON and sign each request with the server's key (MEMORYPLANE_FUZZ_KEY/SECRET, set by
# scripts/fuzz.py), so the fuzzer reaches the operations instead of stopping at the signature.
import json
import os


@schemathesis.serializer("application/x-amz-json-1.1")
def amz_json(ctx, value):
    return json.dumps(value).encode()


@schemathesis.deserializer("application/x-amz-json-1.1")
def amz_json_response(ctx, response):
    return json.loads(response.content or b"null")


class _SigV4:
    """A requests auth that signs the final request (body and headers as sent) with SigV4."""

    def __call__(self, prepared):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        headers = {k: v for k, v in prepared.headers.items() if k.lower() not in ("authorization", "content-length")}
        request = AWSRequest(method=prepared.method, url=prepared.url, data=prepared.body or b"", headers=headers)
        credentials = Credentials(os.environ["MEMORYPLANE_FUZZ_KEY"], os.environ["MEMORYPLANE_FUZZ_SECRET"])
        SigV4Auth(credentials, "memorydb", "us-east-1").add_auth(request)
        for name in ("Authorization", "X-Amz-Date"):
            prepared.headers[name] = request.headers[name]
        return prepared


@schemathesis.hook
def before_call(context, case, kwargs):
    # Signed only where schemathesis means to authenticate: a case that tests a missing or
    # malformed Authorization header goes out as generated.
    meant = kwargs.get("auth") is not None or "Authorization" in (case.headers or {})
    meta = getattr(case, "meta", None)
    data = getattr(getattr(meta, "phase", None), "data", None)
    probing = (getattr(data, "parameter", None) or "").lower() == "authorization"
    if case.path == "/" and "MEMORYPLANE_FUZZ_KEY" in os.environ and meant and not probing:
        kwargs["auth"] = _SigV4()
