"""Run a function in a forked child that may use only so much memory and time: the issue's 256 MB / 10 s rule.

Without a guard, the inputs these tests feed would take gigabytes; in a capped child they end in a
MemoryError or a timeout there, and the test fails instead of the machine swapping.
"""
import multiprocessing
import resource
import time
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass
class Outcome:
    status: str              # "ok", "memory" (MemoryError), "error", "timeout", "died"
    value: object = None
    seconds: float = 0.0
    grown_mb: float = 0.0    # peak resident memory above the child's start

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _vm_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1])


def _child(conn, fn, args, mb):
    start_rss = _vm_kb("VmRSS")
    # The address space may grow by `mb` from here: a bigger allocation raises MemoryError.
    resource.setrlimit(resource.RLIMIT_AS, (_vm_kb("VmSize") * 1024 + mb * MB, resource.RLIM_INFINITY))
    started = time.perf_counter()
    try:
        status, value = "ok", fn(*args)
    except MemoryError:
        status, value = "memory", None
    except Exception as e:  # noqa: BLE001 - reported to the parent, which fails the test with it
        status, value = "error", f"{type(e).__name__}: {e}"
    seconds = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss) / 1024
    conn.send(Outcome(status, value, seconds, grown))
    conn.close()


def run_capped(fn, *args, mb: int = 256, seconds: float = 10.0) -> Outcome:
    """fn(*args) in a forked child with `mb` MB more address space and `seconds` of wall time."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, fn, args, mb), daemon=True)
    started = time.perf_counter()
    child.start()
    send.close()
    if not receive.poll(seconds):
        child.kill()
        child.join()
        return Outcome("timeout", seconds=time.perf_counter() - started)
    try:
        outcome = receive.recv()
    except EOFError:
        outcome = Outcome("died")
    child.join(5)
    return outcome
