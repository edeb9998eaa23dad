// Package kbuild reads what a real Linux kernel build leaves behind and turns
// it into the inputs of the kernel model: the Kconfig values of the symbols
// the model knows and the link order of the initcalls it knows, with the
// provenance of every fact (which file and line decided it) so that a verdict
// can be explained.
//
// Inputs and the Linux files that define their meaning:
//
//   - .config and /proc/config.gz: scripts/kconfig/confdata.c (conf_read_simple,
//     conf_write): "CONFIG_X=value" lines, "# CONFIG_X is not set" for n,
//     strings in double quotes with \" and \\ escapes, decimal and 0x numbers.
//   - Kconfig semantics of the symbols the model knows: drivers/char/tpm/Kconfig,
//     drivers/firmware/arm_ffa/Kconfig, security/integrity/ima/Kconfig,
//     security/Kconfig; y/m/n arithmetic and select/depends rules from
//     scripts/kconfig/symbol.c (sym_calc_value) and Documentation/kbuild/kconfig-language.rst.
//     IS_REACHABLE (include/linux/kconfig.h) decides whether built-in
//     tpm_crb reaches tpm_crb_ffa (drivers/char/tpm/tpm_crb_ffa.h).
//   - modules.builtin and modules.order (scripts/Makefile.modinst,
//     scripts/Makefile.vmlinux_o): module paths in link order and in build order.
//   - System.map (scripts/mksysmap) and vmlinux (ELF): the initcall entries
//     named by include/linux/init.h (__initcall_id, __initcall_name,
//     ____define_initcall), in the order INIT_CALLS lays them out
//     (include/asm-generic/vmlinux.lds.h); with
//     CONFIG_HAVE_ARCH_PREL32_RELOCATIONS each entry is a 32-bit offset from
//     the entry to the function.
//   - Where no file gives the order inside a level, the Kbuild order of the
//     top-level Kbuild and drivers/Makefile decides, and the result says so.
//
// Every parser takes the file name for its error messages, reports errors as
// *ParseError naming the file and the line (text files) or byte offset
// (binary files), and never panics on malformed input.
package kbuild
