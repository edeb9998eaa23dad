// Package verdict connects what kernel/kbuild reads from a real kernel's
// build outputs to the kernel model: it turns the resolved Kconfig, the
// link order and the inferred patch switches into the model's boot inputs,
// runs the modelled boot, and explains the verdict (the deciding Kconfig
// symbols and link-order facts, and the smallest change that makes IMA find
// the TPM, checked by booting the model again with it).
package verdict
