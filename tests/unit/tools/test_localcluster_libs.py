"""localcluster/lib: the daemon library (pid files, start, stop, wait) and the certificate library,
run in bash against a temporary run/log directory with stand-in daemons; no cluster is touched."""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[3] / "localcluster" / "lib"

pytestmark = pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("setsid") is None or not Path("/proc/self/exe").exists(),
    reason="needs bash, setsid and /proc",
)


def _bash(libs, script, env, cwd):
    """bash -c SCRIPT with set -euo pipefail and localcluster/lib/<lib>.sh sourced for each of libs."""
    sources = "; ".join(f'source "{LIB}/{lib}.sh"' for lib in libs)
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; {sources}\n{script}"],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def daemons(tmp_path):
    """run(script) -> CompletedProcess: bash with lib/log.sh and lib/daemons.sh sourced, the run
    and log directories in tmp_path, a grace period of 1 s, and stand-in daemon binaries:
    $SLEEP (a copy of sleep) and $SHELL_BIN (a copy of bash). Stops whatever is left at the end."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    sleep = bindir / "fake-daemon"
    shutil.copy2(shutil.which("sleep"), sleep)
    shell = bindir / "fake-shell"
    shutil.copy2(shutil.which("bash"), shell)
    rundir, logdir = tmp_path / "run", tmp_path / "log"
    env = {
        "DAEMON_RUN_DIR": str(rundir),
        "DAEMON_LOG_DIR": str(logdir),
        "GRACE_SECONDS": "1",
        "LOG_PREFIX": "test",
        "SLEEP": str(sleep),
        "SHELL_BIN": str(shell),
    }

    def run(script, check=True):
        proc = _bash(("log", "daemons"), script, env, tmp_path)
        if check and proc.returncode != 0:
            raise AssertionError(f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    run.rundir, run.logdir, run.sleep, run.shell = rundir, logdir, sleep, shell
    yield run
    # each stand-in leads its own session: end it with whatever it started, but only when the
    # recorded pid still runs one of the stand-in binaries
    for pidfile in rundir.glob("*.pid") if rundir.exists() else []:
        try:
            pid = int(pidfile.read_text())
            if os.readlink(f"/proc/{pid}/exe").startswith(str(bindir) + "/"):
                os.killpg(pid, signal.SIGKILL)
        except (ValueError, OSError):
            pass


def _alive(pid):
    """True while pid is a process that has not exited (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_start_records_the_pid_and_a_log_header_and_a_second_start_is_a_no_op(daemons):
    first = daemons('daemon_start svc "$SLEEP" 300; daemon_pid svc "$SLEEP"')
    pid = int((daemons.rundir / "svc.pid").read_text())
    assert first.stdout.strip() == str(pid) and _alive(pid)
    assert f"[test] started svc (pid {pid}, log log/svc.log)" in first.stderr
    assert Path(f"/proc/{pid}/exe").resolve() == daemons.sleep
    assert os.getsid(pid) == pid, "the daemon runs in its own session"
    header = (daemons.logdir / "svc.log").read_text().splitlines()
    assert header[1].startswith("==== svc start ") and header[2] == f"==== command: {daemons.sleep} 300"

    again = daemons('daemon_start svc "$SLEEP" 300')
    assert f"svc already running (pid {pid})" in again.stderr
    assert int((daemons.rundir / "svc.pid").read_text()) == pid
    assert (daemons.logdir / "svc.log").read_text().count("==== svc start ") == 1


def test_a_replaced_binary_still_counts_as_the_daemon(daemons):
    daemons('daemon_start svc "$SLEEP" 300')
    pid = int((daemons.rundir / "svc.pid").read_text())
    daemons.sleep.unlink()
    shutil.copy2(shutil.which("sleep"), daemons.sleep)
    assert os.readlink(f"/proc/{pid}/exe").endswith(" (deleted)")
    assert daemons('daemon_pid svc "$SLEEP"').stdout.strip() == str(pid)


def test_a_stale_or_reused_pid_counts_as_not_running(daemons):
    daemons.rundir.mkdir()
    pidfile = daemons.rundir / "svc.pid"
    with subprocess.Popen(["true"]) as gone:  # a pid that has exited
        pass
    for stale in (str(gone.pid), str(os.getpid()), "garbage"):  # exited; another program; no pid
        pidfile.write_text(stale + "\n")
        assert daemons('daemon_running svc "$SLEEP"', check=False).returncode == 1, stale
    started = daemons('daemon_start svc "$SLEEP" 300')
    pid = int(pidfile.read_text())
    assert "already running" not in started.stderr and pid != os.getpid() and _alive(pid)
    # the same live process, asked for as another binary, is not that daemon
    assert daemons('daemon_running svc "$SHELL_BIN"', check=False).returncode == 1


def test_stop_terms_the_daemon_and_removes_the_pid_file(daemons):
    daemons('daemon_start svc "$SLEEP" 300')
    pid = int((daemons.rundir / "svc.pid").read_text())
    stopped = daemons('daemon_stop svc "$SLEEP"')
    assert f"stopping svc (pid {pid})" in stopped.stderr and "KILL" not in stopped.stderr
    assert not _alive(pid) and not (daemons.rundir / "svc.pid").exists()
    # stopping what does not run is a no-op that succeeds, and clears a stale pid file
    (daemons.rundir / "svc.pid").write_text(f"{pid}\n")
    again = daemons('daemon_stop svc "$SLEEP"')
    assert again.stderr == "" and not (daemons.rundir / "svc.pid").exists()


def test_stop_kills_a_daemon_that_ignores_term_after_the_grace_period(daemons):
    # an ignored signal stays ignored across exec: the stand-in daemon ignores TERM
    daemons('trap "" TERM; daemon_start stubborn "$SLEEP" 300')
    pid = int((daemons.rundir / "stubborn.pid").read_text())
    status = Path(f"/proc/{pid}/status").read_text()
    sigign = int(re.search(r"^SigIgn:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    assert sigign & (1 << (signal.SIGTERM - 1)), "the stand-in does not ignore TERM"
    started = time.monotonic()
    stopped = daemons('daemon_stop stubborn "$SLEEP" 1')
    took = time.monotonic() - started
    assert "stubborn did not stop within 1s; sending KILL" in stopped.stderr
    assert not _alive(pid) and not (daemons.rundir / "stubborn.pid").exists()
    assert 1 <= took < 10, took


def test_wait_succeeds_when_the_condition_holds(daemons):
    daemons('daemon_start svc "$SLEEP" 300')
    daemons(f'daemon_wait "the marker" 10 svc "$SLEEP" test -e "{daemons.rundir}/svc.pid"')


def test_wait_times_out_with_the_log_tail(daemons):
    daemons('daemon_start chatty "$SHELL_BIN" -c "echo chatty-is-up; sleep 300; true"')
    deadline = time.monotonic() + 10
    while "chatty-is-up" not in (daemons.logdir / "chatty.log").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    waited = daemons('daemon_wait "a condition that never holds" 1 chatty "$SHELL_BIN" false', check=False)
    assert waited.returncode == 1
    assert "chatty-is-up" in waited.stderr and "==== chatty start " in waited.stderr
    assert "[test] ERROR: timed out after 1s waiting for a condition that never holds (log: " in waited.stderr


def test_wait_fails_at_once_with_the_log_tail_when_the_daemon_died(daemons):
    daemons('daemon_start crasher "$SHELL_BIN" -c "echo fatal: no configuration >&2; exit 3"')
    started = time.monotonic()
    waited = daemons('daemon_wait "the port" 30 crasher "$SHELL_BIN" false', check=False)
    assert waited.returncode == 1 and time.monotonic() - started < 10
    assert "fatal: no configuration" in waited.stderr
    assert "crasher exited while waiting for the port" in waited.stderr


def test_wait_until_without_a_daemon(daemons):
    assert daemons("wait_until 5 true").returncode == 0
    assert daemons("wait_until 1 false", check=False).returncode == 1


def test_log_prefix_clock_and_tag(daemons):
    out = daemons('log one; LOG_CLOCK=1 LOG_TAG="job 2" log two; die three', check=False)
    lines = out.stderr.splitlines()
    assert out.returncode == 1
    assert lines[0] == "[test] one"
    assert re.fullmatch(r"\[test \d\d:\d\d:\d\d\] job 2: two", lines[1]), lines[1]
    assert lines[2] == "[test] ERROR: three"


# ---- certificates


@pytest.fixture
def certs(tmp_path):
    """run(script) -> CompletedProcess: bash with lib/log.sh and lib/certs.sh sourced, in tmp_path."""
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")

    def run(script, env=None):
        proc = _bash(("log", "certs"), script, env or {}, tmp_path)
        assert proc.returncode == 0, f"exit {proc.returncode}\nstderr: {proc.stderr}"
        return proc

    return run


def _openssl(*args):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


def _fingerprint(path):
    return _openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", str(path)).stdout


def test_a_ca_and_a_leaf_that_openssl_verifies_with_the_sans_and_usages(certs, tmp_path):
    out = certs(
        'cert_ca pki ca "test-ca"\n'
        'cert_issue pki web pki/ca "/O=tests/CN=web" serverAuth "IP:127.0.0.1,DNS:localhost,DNS:web"\n'
        'echo "issued=$CERTS_ISSUED"'
    )
    assert "creating CA ca" in out.stderr and "issuing certificate web (/O=tests/CN=web)" in out.stderr
    assert out.stdout.strip() == "issued=2"
    pki = tmp_path / "pki"
    verify = _openssl("verify", "-CAfile", str(pki / "ca.crt"), str(pki / "web.crt"))
    assert verify.returncode == 0 and verify.stdout.strip().endswith("OK"), verify.stdout + verify.stderr
    text = _openssl("x509", "-noout", "-text", "-in", str(pki / "web.crt")).stdout
    assert "DNS:localhost" in text and "DNS:web" in text and "IP Address:127.0.0.1" in text
    assert "TLS Web Server Authentication" in text and "CA:FALSE" in text
    assert "CN = web" in _openssl("x509", "-noout", "-subject", "-in", str(pki / "web.crt")).stdout
    assert "CA:TRUE" in _openssl("x509", "-noout", "-text", "-in", str(pki / "ca.crt")).stdout
    assert (pki / "web.key").stat().st_mode & 0o077 == 0, "the key is readable by others"
    assert (pki / "ca.srl").exists() and not (pki / "web.csr").exists()


def test_a_second_run_keeps_valid_certificates(certs, tmp_path):
    script = 'cert_ca pki ca test-ca; cert_issue pki c pki/ca "/CN=c" clientAuth; echo "issued=$CERTS_ISSUED"'
    certs(script)
    before = _fingerprint(tmp_path / "pki" / "c.crt"), _fingerprint(tmp_path / "pki" / "ca.crt")
    again = certs(script)
    assert again.stdout.strip() == "issued=0" and again.stderr == ""
    assert (_fingerprint(tmp_path / "pki" / "c.crt"), _fingerprint(tmp_path / "pki" / "ca.crt")) == before


def test_an_expiring_certificate_is_reissued(certs, tmp_path):
    crt = tmp_path / "pki" / "c.crt"
    issue = 'cert_ca pki ca test-ca; cert_issue pki c pki/ca "/CN=c" clientAuth'
    certs(issue, env={"CERT_DAYS": "10"})
    assert _openssl("x509", "-checkend", str(30 * 86400), "-noout", "-in", str(crt)).returncode == 1
    before = _fingerprint(crt)
    again = certs(f'{issue}; echo "issued=$CERTS_ISSUED"')
    assert "issuing certificate c" in again.stderr and again.stdout.strip() == "issued=1"
    assert _fingerprint(crt) != before
    assert _openssl("x509", "-checkend", str(30 * 86400), "-noout", "-in", str(crt)).returncode == 0


def test_a_certificate_of_another_ca_is_reissued(certs, tmp_path):
    certs('cert_ca pki ca test-ca; cert_ca other ca other-ca; cert_issue pki c other/ca "/CN=c" clientAuth')
    pki = tmp_path / "pki"
    assert _openssl("verify", "-CAfile", str(pki / "ca.crt"), str(pki / "c.crt")).returncode != 0
    again = certs('cert_issue pki c pki/ca "/CN=c" clientAuth; cert_valid pki/c.crt pki/ca.crt')
    assert "issuing certificate c" in again.stderr
    assert _openssl("verify", "-CAfile", str(pki / "ca.crt"), str(pki / "c.crt")).returncode == 0
