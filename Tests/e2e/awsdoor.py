"""Helpers for driving the AWS door: boto3 clients, raw signed calls, and a strict check of a
response against botocore's model (member names, nesting and JSON types, not just parseability)."""
import json
import os
import subprocess
from unittest import mock

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
import requests

MODEL = botocore.session.get_session().get_service_model("memorydb")


def client(server, key=None, secret=None):
    k, s = server.credentials
    return boto3.client(
        "memorydb", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key or k, aws_secret_access_key=secret or s, verify=server.verify,
        config=Config(retries={"max_attempts": 1}))


def raw_call(server, operation, params=None, key=None, secret=None, sign=True, headers=None, body=None, amz_date=None,
             region="us-east-1", unsigned_headers=None):
    """POSTs one operation as botocore would and returns (status, parsed JSON, headers).

    `unsigned_headers` are added after signing, as an attacker replaying a signature would."""
    data = body if body is not None else json.dumps(params or {}).encode()
    fields = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AmazonMemoryDB.{operation}", **(headers or {})}
    request = AWSRequest(method="POST", url=server.url + "/", data=data,
                         headers={name: value for name, value in fields.items() if value is not None})
    if sign:
        k, s = server.credentials
        signer = SigV4Auth(Credentials(key or k, secret or s), "memorydb", region)
        if amz_date:
            with mock.patch("botocore.auth.get_current_datetime", lambda: amz_date):
                signer.add_auth(request)
        else:
            signer.add_auth(request)
    prepared = request.prepare()
    for name, value in (unsigned_headers or {}).items():
        prepared.headers[name] = value
    response = requests.post(prepared.url, data=prepared.body, headers=dict(prepared.headers), timeout=60)
    return response.status_code, response.json(), response.headers


def aws_cli(server, *args):
    env = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=os.path.join(server.data_dir, "credentials"),
               AWS_PROFILE="memoryplane", AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null")
    result = subprocess.run(["aws", "memorydb", "--endpoint-url", server.url, "--output", "json", *args],
                            capture_output=True, text=True, timeout=120, env=env)
    return result.returncode, (json.loads(result.stdout) if result.stdout.strip() else None), result.stderr


JSON_TYPES = {"string": str, "boolean": bool, "timestamp": (int, float), "integer": int, "long": int, "double": (int, float)}


def check_shape(value, shape, path="$"):
    """Fails with the path of the first member that botocore's model does not describe."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: expected an object, got {type(value).__name__}"
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: members not in {shape.name}: {sorted(unknown)}"
        for name, member in shape.members.items():
            if name in value:
                check_shape(value[name], member, f"{path}.{name}")
    elif kind == "list":
        assert isinstance(value, list), f"{path}: expected a list"
        for index, item in enumerate(value):
            check_shape(item, shape.member, f"{path}[{index}]")
    elif kind == "map":
        assert isinstance(value, dict), f"{path}: expected a map"
    else:
        expected = JSON_TYPES[kind]
        assert isinstance(value, expected) and not (kind != "boolean" and isinstance(value, bool)), \
            f"{path}: expected {kind}, got {value!r}"
        if kind == "string" and shape.enum and path.split(".")[-1] != "AvailabilityMode":
            assert value in shape.enum, f"{path}: {value!r} is not one of {shape.enum}"


def check_output(operation, body):
    check_shape(body, MODEL.operation_model(operation).output_shape)


def check_error(body, fault):
    assert body["__type"] == fault, body
    assert body["message"], body


def expect_fault(mdb, fault, call, **params):
    """Requires the boto3 call to be refused with `fault`."""
    try:
        call(**params)
    except mdb.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == fault, error.response
        return
    raise AssertionError(f"{params} accepted; expected {fault}")
