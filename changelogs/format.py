"""Re-indent the YAML files antsibull-changelog writes so they follow the project's YAML style
(sequences indented under their key, as ansible-lint's yamllint rules expect)."""

import sys

import yaml


class _IndentedDumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as src:
        data = yaml.safe_load(src)
    with open(path, "w", encoding="utf-8") as dst:
        dst.write("---\n")
        yaml.dump(data, dst, Dumper=_IndentedDumper, default_flow_style=False, sort_keys=False, width=100, allow_unicode=True)
