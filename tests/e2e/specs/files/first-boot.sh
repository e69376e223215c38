# A first_boot script step (ctxgen runs it as `sh -eu -c CONTENT`).
b=$(cut -c1-8 /proc/sys/kernel/random/boot_id)
echo "first_boot-script $b" >> /var/lib/smoke/marker
