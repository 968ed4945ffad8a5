"""Create a small hospital estate in the local AWS emulator and send the change events AWS
would send for it. Used by scripts/demo.sh; needs boto3 (installed with moto) and
AWS_ENDPOINT_URL pointing at the emulator."""

import json
import os
import uuid
from datetime import datetime, timezone

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_REGION", "us-east-1")
ACCOUNT = "123456789012"  # moto's account
NOW = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def client(name):
    return boto3.client(name, endpoint_url=ENDPOINT, region_name=REGION)


s3, sqs, rds, events = client("s3"), client("sqs"), client("rds"), client("events")


def cloudtrail(source, name, params):
    return {
        "Source": "aws." + source.split(".")[0],
        "DetailType": "AWS API Call via CloudTrail",
        "Detail": json.dumps({
            "eventVersion": "1.09", "eventTime": NOW, "eventSource": source, "eventName": name,
            "awsRegion": REGION, "sourceIPAddress": "198.51.100.20",
            "userIdentity": {"type": "AssumedRole", "accountId": ACCOUNT,
                             "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-deployer/terraform"},
            "requestParameters": params, "responseElements": None, "eventID": str(uuid.uuid4()),
            "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
            "recipientAccountId": ACCOUNT,
        }),
    }


def config_item(db):
    """The AWS Config item change AWS would publish for an RDS instance."""
    groups = [{"dBParameterGroupName": g["DBParameterGroupName"]} for g in db.get("DBParameterGroups", [])]
    options = [{"optionGroupName": g["OptionGroupName"]} for g in db.get("OptionGroupMemberships", [])]
    item = {
        "configurationItemVersion": "1.3", "configurationItemCaptureTime": NOW,
        "configurationStateId": int(datetime.now().timestamp() * 1000), "awsAccountId": ACCOUNT,
        "configurationItemStatus": "OK", "resourceType": "AWS::RDS::DBInstance",
        "resourceId": db["DbiResourceId"], "resourceName": db["DBInstanceIdentifier"],
        "ARN": db["DBInstanceArn"], "awsRegion": REGION, "tags": {"data-classification": "phi"},
        "relationships": [], "relatedEvents": [], "supplementaryConfiguration": {},
        "configuration": {
            "dBInstanceIdentifier": db["DBInstanceIdentifier"], "engine": db["Engine"],
            "engineVersion": db.get("EngineVersion"), "storageEncrypted": db.get("StorageEncrypted", False),
            "backupRetentionPeriod": db.get("BackupRetentionPeriod", 1),
            "dBParameterGroups": groups, "optionGroupMemberships": options,
        },
    }
    return {
        "Source": "aws.config", "DetailType": "Config Configuration Item Change",
        "Detail": json.dumps({"messageType": "ConfigurationItemChangeNotification", "recordVersion": "1.3",
                              "notificationCreationTime": NOW, "configurationItem": item}),
    }


entries = []
# A bucket that holds PHI but has no TLS-only policy and no versioning; an owner e-mail in a tag.
s3.create_bucket(Bucket="radiology-archive")
s3.put_bucket_tagging(Bucket="radiology-archive", Tagging={"TagSet": [
    {"Key": "data-classification", "Value": "phi"}, {"Key": "owner", "Value": "jdoe@example-hospital.org"}]})
entries.append(cloudtrail("s3.amazonaws.com", "PutBucketTagging", {"bucketName": "radiology-archive"}))
# A bucket named after a patient's medical record number.
s3.create_bucket(Bucket="mrn-00482913-scans")
entries.append(cloudtrail("s3.amazonaws.com", "CreateBucket", {"bucketName": "mrn-00482913-scans"}))
# A compliant bucket: KMS, TLS-only, versioned.
s3.create_bucket(Bucket="cardiology-dicom")
s3.put_bucket_encryption(Bucket="cardiology-dicom", ServerSideEncryptionConfiguration={"Rules": [{
    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/phi-data"},
    "BucketKeyEnabled": True}]})
s3.put_bucket_policy(Bucket="cardiology-dicom", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": ["arn:aws:s3:::cardiology-dicom", "arn:aws:s3:::cardiology-dicom/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
s3.put_bucket_versioning(Bucket="cardiology-dicom", VersioningConfiguration={"Status": "Enabled"})
entries.append(cloudtrail("s3.amazonaws.com", "PutBucketPolicy", {"bucketName": "cardiology-dicom"}))
# A queue for HL7 messages with server-side encryption switched off.
url = sqs.create_queue(QueueName="hl7-inbound", Attributes={"SqsManagedSseEnabled": "false"})["QueueUrl"]
entries.append(cloudtrail("sqs.amazonaws.com", "SetQueueAttributes",
                          {"queueUrl": url, "attributes": {"SqsManagedSseEnabled": "false"}}))
# RDS PostgreSQL on the default parameter group (no forced SSL), and SQL Server Express.
for ident, engine, version in [("ehr-primary", "postgres", "14.9"), ("billing-reports", "sqlserver-ex", "15.00.4335.1.v1")]:
    db = rds.create_db_instance(DBInstanceIdentifier=ident, Engine=engine, EngineVersion=version,
                                DBInstanceClass="db.t3.medium", AllocatedStorage=20, MasterUsername="admin",
                                MasterUserPassword="not-a-real-password-1", StorageEncrypted=(engine == "postgres"),
                                BackupRetentionPeriod=7)["DBInstance"]
    entries.append(config_item(db))

for i in range(0, len(entries), 10):
    events.put_events(Entries=entries[i:i + 10])
print(f"created 3 buckets, 1 queue, 2 RDS instances; sent {len(entries)} events through EventBridge")
