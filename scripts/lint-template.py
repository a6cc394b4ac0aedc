#!/usr/bin/env python3
"""Lints a SAM template for real.

cfn-lint (1.5x) and `sam validate --lint` only schema-check
AWS::Serverless::* resources, so a bad runtime, a bad architecture or a
reference to a missing resource inside the function all pass. This script
expands SAM into plain CloudFormation with aws-sam-translator first (local
CodeUri replaced by a placeholder S3 location), then runs cfn-lint on both
the template and the expansion.

Usage: lint-template.py [TEMPLATE] [NAME=VALUE ...]   (default: template.yaml)
Each NAME=VALUE becomes the default of that parameter first, so one mode
of a template with conditions (AuthMode=JwksOnly, say) is linted as it
would deploy.
Exit status 0 when clean, 1 when cfn-lint or the translator found problems.
"""
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from cfnlint.decode import cfn_yaml  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402


class NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs; offline, there are none."""

    def load(self):
        return {}

    def get_managed_policy_map(self):
        return {}


def cfn_lint(path):
    linter = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
    return subprocess.run([linter, path]).returncode


def main():
    args = sys.argv[1:]
    path = args.pop(0) if args and "=" not in args[0] else "template.yaml"
    template = json.loads(json.dumps(cfn_yaml.load(path)))
    for arg in args:
        name, _, value = arg.partition("=")
        if name not in template.get("Parameters", {}):
            print(f"{path}: no parameter {name}", file=sys.stderr)
            return 1
        template["Parameters"][name]["Default"] = value
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            if not props["CodeUri"].startswith("s3://"):
                props["CodeUri"] = "s3://placeholder-bucket/placeholder-key.zip"
    try:
        # The translator changes what it is given; keep the original.
        expanded = transform(json.loads(json.dumps(template)), {}, NoManagedPolicies())
    except Exception as err:  # the translator's own validation errors
        print(f"{path}: SAM translation failed: {err}", file=sys.stderr)
        return 1
    status = cfn_lint(path)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        json.dump(expanded, out, indent=1)
    try:
        status |= cfn_lint(out.name)
    finally:
        os.unlink(out.name)
    if args:
        # The template with those defaults, conditions and rules included.
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
            json.dump(template, out, indent=1)
        try:
            status |= cfn_lint(out.name)
        finally:
            os.unlink(out.name)
    if status == 0:
        mode = f" with {' '.join(args)}" if args else ""
        print(f"{path}{mode}: clean (cfn-lint on the template and its SAM expansion)")
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
