"""Bootstrap pip in a fresh venv from the interpreter's bundled wheel, then install the
requested packages: the interface of pip's get-pip.py, without downloading anything but
the packages themselves from the package index.

pip in the venv is pointed at the operating system's CA bundle (through the venv's own
pip.conf), so package downloads trust the same certificates as the rest of the system.
"""

import ensurepip
import os
import ssl
import subprocess
import sys

# get-pip.py's own flags; pip install does not know them.
_GET_PIP_FLAGS = {"--no-setuptools", "--no-wheel"}


def _trust_system_ca_bundle() -> None:
    cafile = ssl.get_default_verify_paths().cafile
    if cafile and os.path.isfile(cafile):
        with open(os.path.join(sys.prefix, "pip.conf"), "w", encoding="utf-8") as conf:
            conf.write(f"[global]\ncert = {cafile}\n")


_trust_system_ca_bundle()
ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null for its own run; the install below needs pip.conf.
os.environ.pop("PIP_CONFIG_FILE", None)
args = [arg for arg in sys.argv[1:] if arg not in _GET_PIP_FLAGS]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
