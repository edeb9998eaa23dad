// Package policy models Linux IMA's policy language (Documentation/ABI/
// testing/ima_policy, security/integrity/ima/ima_policy.c): rules of the form
//
//	action [condition ...]
//
// with the actions measure, dont_measure, appraise, dont_appraise, audit,
// hash and dont_hash, the conditions func=, mask= (and ^mask), fsmagic=,
// fsname=, fsuuid=, uid/euid/gid/egid/fowner/fgroup with =, < and >, and the
// options pcr= and template=. It also provides the built-in policies that
// ima_policy=tcb and ima_policy=original_tcb select (default_measurement_rules,
// original_measurement_rules, both after dont_measure_rules).
//
// Matching follows ima_match_policy: the first rule whose conditions match
// and whose action is measure or dont_measure decides whether to measure.
package policy
