"""Push CloudTrail events through a Cloud Custodian CloudTrail-mode policy in-process.

This is the code path of Custodian's Lambda handler (`Policy.push` → the mode's `run`:
resolve the resource ids from the event, fetch them, filter), without deploying a Lambda.
Usage: python custodian_events.py POLICY.yml EVENTS.json OUT.json  (OUT: flagged bucket names)
"""

import json
import sys
import tempfile

from c7n.config import Config
from c7n.loader import PolicyLoader


def main():
    policy_file, events_file, out_file = sys.argv[1:4]
    out_dir = tempfile.mkdtemp(prefix="c7n-events-")
    config = Config.empty(region="us-east-1", regions=["us-east-1"], output_dir=out_dir,
                          account_id="123456789012", cache="", cache_period=0)
    policies = list(PolicyLoader(config).load_file(policy_file))
    flagged = set()
    for event in json.load(open(events_file)):
        for policy in policies:
            for resource in policy.push(event, None) or []:
                flagged.add(resource["Name"])
    json.dump(sorted(flagged), open(out_file, "w"))


if __name__ == "__main__":
    main()
