# Shared by the hugepages scripts: where 2 MiB pages are counted and mounted.
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB
mnt=${KEYCAST_HUGEPAGE_MOUNT:-/dev/hugepages}
marker=/run/keycast-hugepages.mounted

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$(basename "$0"): run as root" >&2
    exit 1
  fi
}

need_sysfs() {
  if [ ! -d "$sysfs" ]; then
    echo "$(basename "$0"): this kernel has no 2 MiB hugepages ($sysfs missing)" >&2
    exit 1
  fi
}

is_mounted() { grep -qs " $mnt hugetlbfs " /proc/mounts; }
