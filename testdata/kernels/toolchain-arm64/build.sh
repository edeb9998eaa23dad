#!/bin/sh
# Builds vmlinux: a tiny arm64 image whose initcall table the real GNU
# toolchain lays out the way Linux does. Each object defines its initcall
# with the same construct as include/linux/init.h ____define_initcall under
# CONFIG_HAVE_ARCH_PREL32_RELOCATIONS (a local __initcall__kmod_* label in
# .initcall<level>.init holding ".long fn - ."), and vmlinux.lds merges the
# sections into .init.data between the boundary symbols as INIT_CALLS in
# include/asm-generic/vmlinux.lds.h does. The objects are linked in Kbuild
# order (security/ before drivers/; acpi/ before char/ before base/ before
# firmware/).
# Needs binutils-aarch64-linux-gnu (Debian). Run from this directory.
set -eu
AS=${AS:-aarch64-linux-gnu-as}
LD=${LD:-aarch64-linux-gnu-ld}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# obj modname counter line fn level
obj() {
	cat > "$tmp/$1.S" <<ASM
	.text
	.globl $5
	.type $5, %function
$5:
	mov w0, #0
	ret
	.size $5, .-$5
	.section ".initcall$6.init", "a"
__initcall__kmod_$2__$3_$4_$5$6:
	.long $5 - .
ASM
	$AS -o "$tmp/$1.o" "$tmp/$1.S"
	objs="$objs $tmp/$1.o"
}

objs=""
obj init_main    main        11 1540 kernel_init_early early
obj ima          ima         818 1274 init_ima 7
obj acpi         acpi        860 1571 acpi_init 4
obj tpm          tpm         804 507 tpm_init 4
obj tpm_crb      tpm_crb     721 854 crb_acpi_driver_init 6
obj tpm_crb_ffa  tpm_crb_ffa 730 402 tpm_crb_ffa_driver_init 6
obj dd           dd          687 375 deferred_probe_initcall 7
obj ffa_core     ffa_core    690 227 arm_ffa_bus_init 4
obj ffa_module   ffa_module  700 2031 ffa_init 6
obj clk          clk         20 1506 clk_disable_unused 7s
$LD -n --build-id=none -T vmlinux.lds -o vmlinux $objs
${NM:-aarch64-linux-gnu-nm} -n vmlinux > System.map
