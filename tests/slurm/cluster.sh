#!/usr/bin/env bash
# A throw-away single-node SLURM cluster on this machine, for merflow's SLURM e2e test.
#
#   tests/slurm/cluster.sh start    # install (Debian, as root) if missing, configure, start
#   tests/slurm/cluster.sh status   # exit 0 when the node is idle and jobs can run
#   tests/slurm/cluster.sh stop     # stop the daemons this script started, by pid
#   tests/slurm/cluster.sh env      # print `export SLURM_CONF=...` for the clients
#
# Everything lives under $MERFLOW_SLURM_DIR (default /tmp/merflow-slurm): slurm.conf,
# gres.conf, munge key and socket, spool and state folders, pid and log files. No systemd.
# /etc/slurm/slurm.conf is made a link to that slurm.conf (removed by stop): inside a job,
# Snakemake's jobstep drops SLURM_* variables (SLURM_CONF too) before calling srun, so the
# clients must find the config at its default place. An existing real one is left alone.
# One node with this machine's cores and memory, no accounting daemon (so Snakemake's
# plugin must query job status with squeue), and a fake GPU (gres gpu, File=/dev/null)
# so that jobs asking for a GPU are scheduled as on a real cluster.
set -euo pipefail

STATE=${MERFLOW_SLURM_DIR:-/tmp/merflow-slurm}
CONF=$STATE/slurm.conf
SYSTEM_CONF=/etc/slurm/slurm.conf
PACKAGES=(slurmctld slurmd slurm-client munge)
WAIT_S=${MERFLOW_SLURM_WAIT_S:-60}

die() {
    echo "cluster.sh: $*" >&2
    exit 1
}

install_packages() {
    local missing=()
    command -v slurmctld >/dev/null || missing+=(slurmctld)
    command -v slurmd >/dev/null || missing+=(slurmd)
    command -v sbatch >/dev/null || missing+=(slurm-client)
    command -v munged >/dev/null || missing+=(munge)
    [[ ${#missing[@]} -eq 0 ]] && return 0
    [[ $(id -u) -eq 0 ]] || die "needs root to install ${missing[*]} (apt-get)"
    command -v apt-get >/dev/null || die "no apt-get: install ${PACKAGES[*]} by hand"
    echo "cluster.sh: installing ${PACKAGES[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
        "${PACKAGES[@]}" >/dev/null
}

write_config() {
    mkdir -p "$STATE"/{munge,ctld,spool,log}
    chmod 700 "$STATE/munge"
    local host cpus mem
    host=$(hostname -s)
    # slurmd -C reports what slurmd itself will detect (not nproc, which follows
    # OMP_NUM_THREADS when a caller set it); keep 5% of memory for the OS.
    cpus=$(slurmd -C | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p')
    [[ -n $cpus ]] || cpus=$(getconf _NPROCESSORS_ONLN)
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    mem=$((mem * 95 / 100))
    if [[ ! -s $STATE/munge/munge.key ]]; then
        dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
        chmod 400 "$STATE/munge/munge.key"
    fi
    cat >"$STATE/gres.conf" <<EOF
NodeName=$host Name=gpu File=/dev/null
EOF
    cat >"$CONF" <<EOF
# Written by merflow tests/slurm/cluster.sh: one node, no accounting, a fake GPU.
ClusterName=merflow
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$STATE/munge/munge.socket
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue (and scontrol) for an hour: the plugin reads their
# state there, and the tests check every job of a run that may take many minutes.
MinJobAge=3600
SchedulerParameters=sched_interval=2
GresTypes=gpu
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    if [[ -e $SYSTEM_CONF || -L $SYSTEM_CONF ]] && [[ $(readlink "$SYSTEM_CONF") != "$CONF" ]]; then
        die "$SYSTEM_CONF exists and is not ours: this machine has a SLURM config already"
    fi
    mkdir -p "$(dirname "$SYSTEM_CONF")"
    ln -sfn "$CONF" "$SYSTEM_CONF"
}

alive() {
    [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

node_idle() {
    local state
    state=$(SLURM_CONF=$CONF sinfo -h -N -o '%t' 2>/dev/null | head -n1) || return 1
    [[ $state == idle* || $state == mix* || $state == alloc* ]]
}

start() {
    install_packages
    if alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid" && node_idle; then
        echo "cluster.sh: already running ($CONF)" >&2
        return 0
    fi
    stop_daemons
    write_config
    munged --force --socket="$STATE/munge/munge.socket" \
        --key-file="$STATE/munge/munge.key" --pid-file="$STATE/munged.pid" \
        --log-file="$STATE/log/munged.log" --seed-file="$STATE/munge/munged.seed"
    slurmctld -f "$CONF" -c -i
    slurmd -f "$CONF"
    local waited=0
    until node_idle; do
        sleep 1
        waited=$((waited + 1))
        if ((waited >= WAIT_S)); then
            tail -n 20 "$STATE"/log/*.log >&2 || true
            stop_daemons
            die "the node did not become idle within ${WAIT_S}s (logs above)"
        fi
    done
    echo "cluster.sh: node idle after ${waited}s; export SLURM_CONF=$CONF" >&2
}

stop_daemons() {
    local name pidfile pid
    for name in slurmd slurmctld munged; do
        pidfile=$STATE/$name.pid
        if alive "$pidfile"; then
            pid=$(cat "$pidfile")
            kill "$pid"
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        fi
        rm -f "$pidfile"
    done
    if [[ $(readlink "$SYSTEM_CONF" 2>/dev/null) == "$CONF" ]]; then
        rm -f "$SYSTEM_CONF"
    fi
}

case ${1:-} in
start) start ;;
stop) stop_daemons ;;
status) alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid" && node_idle ;;
env) echo "export SLURM_CONF=$CONF" ;;
*) die "usage: $0 start|status|stop|env" ;;
esac
