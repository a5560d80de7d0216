"""Filter a NUL-separated list of paths (stdin) down to the files that `ansible-galaxy
collection build` would ship, using galaxy.yml's build_ignore patterns."""

import fnmatch
import sys

import yaml


def shipped(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return not any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns)


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as galaxy:
        patterns = yaml.safe_load(galaxy).get("build_ignore", [])
    paths = [p for p in sys.stdin.buffer.read().decode().split("\0") if p]
    sys.stdout.write("".join(f"{p}\0" for p in paths if shipped(p, patterns)))


if __name__ == "__main__":
    main()
