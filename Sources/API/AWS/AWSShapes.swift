import Control
import Foundation
import Model
import Store

/// Views rendered as botocore's memorydb shapes: PascalCase members, epoch-second timestamps.
enum AWSShapes {
    static func cluster(_ view: ClusterView, showShardDetails: Bool) -> AWSJSON {
        .object([
            "Name": .string(view.name),
            "Description": view.description.map(AWSJSON.string),
            "Status": .string(view.status.rawValue),
            "NumberOfShards": .int(view.numberOfShards),
            "Shards": showShardDetails ? .array(view.shards.map(shard)) : nil,
            "AvailabilityMode": .string(view.availabilityMode),
            "ClusterEndpoint": endpoint(view.clusterEndpoint),
            "NodeType": .string(view.nodeType),
            "Engine": .string(view.engine),
            "EngineVersion": .string(view.engineVersion),
            "EnginePatchVersion": .string(view.enginePatchVersion),
            "ParameterGroupName": .string(view.parameterGroupName),
            "ParameterGroupStatus": .string(view.parameterGroupStatus),
            "SecurityGroups": .array(view.securityGroupIds.map { .object(["SecurityGroupId": .string($0), "Status": .string("active")]) }),
            "SubnetGroupName": .string(view.subnetGroupName),
            "TLSEnabled": .bool(view.tlsEnabled),
            "ARN": .string(view.arn),
            "SnapshotRetentionLimit": .int(view.snapshotRetentionLimit),
            "MaintenanceWindow": .string(view.maintenanceWindow),
            "SnapshotWindow": .string(view.snapshotWindow),
            "ACLName": .string(view.aclName),
            "AutoMinorVersionUpgrade": .bool(view.autoMinorVersionUpgrade),
            "DataTiering": .string(view.dataTiering),
            "NetworkType": .string("ipv4"),
            "IpDiscovery": .string("ipv4"),
        ])
    }

    static func shard(_ shard: ClusterView.ShardView) -> AWSJSON {
        .object([
            "Name": .string(shard.name),
            "Status": .string(shard.status),
            "Slots": .string(shard.slots),
            "NumberOfNodes": .int(shard.nodes.count),
            "Nodes": .array(shard.nodes.map { node in
                .object([
                    "Name": .string(node.name),
                    "Status": .string(node.status.rawValue),
                    "AvailabilityZone": .string(node.availabilityZone),
                    "CreateTime": .timestamp(milliseconds: node.createTime),
                    "Endpoint": endpoint(node.endpoint),
                ])
            }),
        ])
    }

    /// botocore's Snapshot: the cluster's configuration, and its shards with ShowDetail.
    static func snapshot(_ view: SnapshotView, showDetail: Bool) -> AWSJSON {
        let configuration = view.configuration
        return .object([
            "Name": .string(view.name),
            "Status": .string(view.status),
            "Source": .string(view.source),
            "KmsKeyId": view.kmsKeyId.map(AWSJSON.string),
            "ARN": .string(view.arn),
            "DataTiering": .string("false"),
            "ClusterConfiguration": .object([
                "Name": .string(configuration.name),
                // AWS writes an empty description as "", and the VPC the cluster was in.
                "Description": .string(configuration.description ?? ""),
                "VpcId": .string(BuiltinResources.vpcID),
                "NodeType": .string(configuration.nodeType),
                "Engine": .string("redis"),
                "EngineVersion": .string(configuration.engineVersion),
                "MaintenanceWindow": .string(configuration.maintenanceWindow),
                "Port": .int(configuration.port),
                "ParameterGroupName": .string(configuration.parameterGroupName),
                "SubnetGroupName": .string(configuration.subnetGroupName),
                "SnapshotRetentionLimit": .int(configuration.snapshotRetentionLimit),
                "SnapshotWindow": .string(configuration.snapshotWindow),
                "NumShards": .int(configuration.numShards),
                "Shards": showDetail ? .array(view.shards.map { shard in
                    .object([
                        "Name": .string(shard.name),
                        "Configuration": .object(["Slots": .string(shard.slots), "ReplicaCount": .int(shard.replicaCount)]),
                        "Size": shard.size.map { .string(sizeText($0)) },
                        "SnapshotCreationTime": shard.creationTime.map { .timestamp(milliseconds: $0) },
                    ])
                }) : nil,
            ]),
        ])
    }

    /// botocore's ReservedNodesOffering.
    static func offering(_ offering: ReservedNodesOffering) -> AWSJSON {
        .object([
            "ReservedNodesOfferingId": .string(offering.id), "NodeType": .string(offering.nodeType), "Duration": .int(offering.duration),
            "FixedPrice": .double(offering.fixedPrice), "OfferingType": .string(offering.offeringType),
            "RecurringCharges": .array([.object(["RecurringChargeAmount": .double(offering.recurringHourly), "RecurringChargeFrequency": .string("Hourly")])]),
        ])
    }

    /// botocore's ReservedNode.
    static func reservedNode(_ node: ReservedNodeView) -> AWSJSON {
        let record = node.record
        return .object([
            "ReservationId": .string(record.id), "ReservedNodesOfferingId": .string(record.offeringID), "NodeType": .string(record.nodeType),
            "StartTime": .timestamp(milliseconds: record.startTime), "Duration": .int(record.duration), "FixedPrice": .double(record.fixedPrice),
            "NodeCount": .int(record.nodeCount), "OfferingType": .string(record.offeringType), "State": .string(node.state),
            "RecurringCharges": .array([.object(["RecurringChargeAmount": .double(record.recurringHourly), "RecurringChargeFrequency": .string("Hourly")])]),
            "ARN": .string(node.arn),
        ])
    }

    /// Sizes as AWS writes them: megabytes with one decimal, "12.3 MB".
    static func sizeText(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }

    static func endpoint(_ endpoint: ClusterView.Endpoint) -> AWSJSON {
        .object(["Address": endpoint.address.map(AWSJSON.string), "Port": .int(endpoint.port)])
    }

    static func tagList(_ tags: [Tag]) -> AWSJSON {
        .array(tags.map { .object(["Key": .string($0.key), "Value": .string($0.value)]) })
    }

    static func user(_ user: UserView) -> AWSJSON {
        .object([
            "Name": .string(user.name),
            "Status": .string(user.status),
            "AccessString": .string(user.accessString),
            "ACLNames": .strings(user.aclNames),
            "MinimumEngineVersion": .string(user.minimumEngineVersion),
            "Authentication": .object(["Type": .string(user.authenticationType), "PasswordCount": user.passwordCount.map(AWSJSON.int)]),
            "ARN": .string(user.arn),
        ])
    }

    static func acl(_ acl: ACLView) -> AWSJSON {
        .object([
            "Name": .string(acl.name),
            "Status": .string(acl.status),
            "UserNames": .strings(acl.userNames),
            "MinimumEngineVersion": .string(acl.minimumEngineVersion),
            "Clusters": .strings(acl.clusters),
            "ARN": .string(acl.arn),
        ])
    }

    static func subnetGroup(_ group: SubnetGroupView) -> AWSJSON {
        .object([
            "Name": .string(group.name),
            "Description": .string(group.description),
            "VpcId": .string(group.vpcID),
            "Subnets": .array(group.subnets.map { subnet in
                .object([
                    "Identifier": .string(subnet.identifier),
                    "AvailabilityZone": .object(["Name": .string(subnet.availabilityZone)]),
                    "SupportedNetworkTypes": .strings(["ipv4"]),
                ])
            }),
            "ARN": .string(group.arn),
            "SupportedNetworkTypes": .strings(["ipv4"]),
        ])
    }

    static func parameterGroup(_ group: ParameterGroupView) -> AWSJSON {
        .object(["Name": .string(group.name), "Family": .string(group.family), "Description": .string(group.description), "ARN": .string(group.arn)])
    }

    /// As AWS reports parameters: an empty value or allowed-values list is left out, not "".
    static func parameter(_ parameter: ParameterDefinition) -> AWSJSON {
        var members: [String: AWSJSON] = [
            "Name": .string(parameter.name),
            "Description": .string(parameter.description),
            "DataType": .string(parameter.dataType.rawValue),
            "MinimumEngineVersion": .string(parameter.minimumEngineVersion),
        ]
        if !parameter.defaultValue.isEmpty { members["Value"] = .string(parameter.defaultValue) }
        if !parameter.allowedValues.isEmpty { members["AllowedValues"] = .string(parameter.allowedValues) }
        return .object(members)
    }

    static func engineVersion(_ version: EngineVersionView) -> AWSJSON {
        .object([
            "Engine": .string(version.engine),
            "EngineVersion": .string(version.engineVersion),
            "EnginePatchVersion": .string(version.enginePatchVersion),
            "ParameterGroupFamily": .string(version.parameterGroupFamily),
        ])
    }

    static func event(_ event: EventView) -> AWSJSON {
        .object([
            "SourceName": .string(event.sourceName),
            "SourceType": .string(event.sourceType),
            "Message": .string(event.message),
            "Date": .timestamp(milliseconds: event.date),
        ])
    }

    /// A page: the list under its member name, and NextToken when more follow.
    static func serviceUpdate(_ update: ServiceUpdateView) -> AWSJSON {
        .object([
            "ClusterName": .string(update.clusterName), "ServiceUpdateName": .string(update.name),
            "ReleaseDate": .timestamp(milliseconds: update.releaseDate), "Description": .string(update.description),
            "Status": .string(update.status), "Type": .string(update.type), "Engine": .string(update.engine),
            "NodesUpdated": .string(update.nodesUpdated), "AutoUpdateStartDate": update.autoUpdateStartDate.map { .timestamp(milliseconds: $0) },
        ])
    }

    static func page(_ member: String, _ items: [AWSJSON], nextToken: String?) -> AWSJSON {
        .object([member: .array(items), "NextToken": nextToken.map(AWSJSON.string)])
    }
}
