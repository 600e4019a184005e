"""What a speed figure needs beside it: the CPU model and how much of the CPU this guest really
had. The load average does not show the hypervisor: on a KVM guest whose host is oversubscribed
the "steal" column of /proc/stat counts time our vCPUs were runnable but not run (one 2-core
guest lost 14-36% of its CPU that way while its load average read 1-2).

    m = Meter(); ...run...; m.summary() -> {"cpu": ..., "load_before": ..., "load_after": ..., "steal_pct": ...}
"""
import os

def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"

def cpu_times():
    """(steal, total) jiffies of all CPUs, from /proc/stat's first line."""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return f[7], sum(f[:8])  # user nice system idle iowait irq softirq steal

class Meter:
    def __init__(self):
        self.load0 = os.getloadavg()[0]
        self.t0 = cpu_times()

    def summary(self):
        t1 = cpu_times()
        total = max(1, t1[1] - self.t0[1])
        return dict(cpu=cpu_model(), load_before=round(self.load0, 2), load_after=round(os.getloadavg()[0], 2),
                    steal_pct=round(100 * (t1[0] - self.t0[0]) / total, 1))
