"""The outcome of one ansible-playbook run, shared by the integration test kits."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Run:
    rc: int
    output: str

    @property
    def flat(self) -> str:
        """The output on one line, YAML quoting undone, for message assertions."""
        return " ".join(self.output.replace("''", "'").split())

    def recap(self) -> dict[str, int]:
        match = re.search(r"localhost\s+:\s+(.*)", self.output.split("PLAY RECAP")[-1])
        assert match, f"no play recap in output:\n{self.output[-3000:]}"
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}
