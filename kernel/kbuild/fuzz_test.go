package kbuild

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Every parser takes arbitrary bytes: it returns a value or a *ParseError,
// never panics, and what it returns is consistent.

func requireParseError(t *testing.T, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T is not a *ParseError: %v", err, err)
	}
	if pe.File == "" || pe.Msg == "" {
		t.Fatalf("error without file or message: %#v", pe)
	}
}

func addFixtureSeeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join(fixturesDir, pattern))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(sampleConfig))
	f.Add([]byte("CONFIG_A=\"x\\\"y\"\n# CONFIG_B is not set\nCONFIG_C=0x10\n"))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(sampleConfig))
	zw.Close()
	f.Add(gz.Bytes())
	f.Add(gz.Bytes()[:gz.Len()/2])
	addFixtureSeeds(f, "*/boot/config-*")
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig("fuzz.config", data)
		if err != nil {
			requireParseError(t, err)
			return
		}
		// What was read writes back and reads the same.
		var settings []Setting
		for _, n := range c.Names() {
			s, _ := c.Lookup(n)
			settings = append(settings, s)
		}
		var buf bytes.Buffer
		if err := WriteConfig(&buf, settings); err != nil {
			t.Fatal(err)
		}
		c2, err := ParseConfig("rewritten", buf.Bytes())
		if err != nil {
			t.Fatalf("rewritten config does not parse: %v\n%s", err, buf.Bytes())
		}
		for _, n := range c.Names() {
			a, _ := c.Lookup(n)
			b, ok := c2.Lookup(n)
			if !ok || a.Value != b.Value {
				t.Fatalf("%s: %v became %v", n, a.Value, b.Value)
			}
		}
		// Resolution never fails on a parsed config.
		k := Resolve(c, "")
		_ = k.CRBFFAReach()
	})
}

func FuzzParseModuleList(f *testing.F) {
	f.Add([]byte("kernel/drivers/char/tpm/tpm.ko\nkernel/drivers/char/tpm/tpm_crb.ko\n"))
	f.Add([]byte("drivers/firmware/arm_ffa/ffa-module.o\n\nkernel/x.ko.zst\n"))
	addFixtureSeeds(f, "*/lib/modules/*/modules.*")
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseModuleList("fuzz.modules", data)
		if err != nil {
			requireParseError(t, err)
			return
		}
		for i, e := range l.Entries {
			if l.Index(e.Object) != i {
				t.Fatalf("index of %s is %d, want %d", e.Object, l.Index(e.Object), i)
			}
		}
	})
}

func FuzzParseSystemMap(f *testing.F) {
	f.Add([]byte(sampleMap))
	f.Add([]byte("ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n"))
	addFixtureSeeds(f, "*/boot/System.map-*")
	addFixtureSeeds(f, "toolchain-arm64/System.map")
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseSystemMap("fuzz.map", data)
		if err != nil {
			requireParseError(t, err)
			return
		}
		for i := 1; i < len(tab.Entries); i++ {
			if tab.Entries[i].Addr < tab.Entries[i-1].Addr {
				t.Fatal("entries not in address order")
			}
		}
		for _, e := range tab.Entries {
			if e.Level.Rank() < 0 || e.Fn == "" {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

func FuzzParseVmlinux(f *testing.F) {
	for _, o := range []vmlinuxOpts{{}, {absolute: true}, {sections: true}, {bo: binary.BigEndian}, {noBounds: true}} {
		img := syntheticVmlinux(seed002Calls(), o)
		f.Add(img)
		f.Add(img[:len(img)*3/4])
	}
	if b, err := os.ReadFile(filepath.Join(fixturesDir, "toolchain-arm64", "vmlinux")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseVmlinux("fuzz.vmlinux", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			requireParseError(t, err)
			return
		}
		if len(tab.Entries) == 0 || len(tab.Entries) > maxInitcalls {
			t.Fatalf("%d entries", len(tab.Entries))
		}
		for _, e := range tab.Entries {
			if e.Level.Rank() < 0 {
				t.Fatalf("bad level %+v", e)
			}
		}
	})
}

func FuzzDecodeInitcallSymbol(f *testing.F) {
	for _, s := range []string{"__initcall__kmod_ima__818_1274_init_ima7", "__initcall_ffa_init6", "__initcall__kmod_x__1_2_foo17s", "__initcall_start"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, ok := DecodeInitcallSymbol(s)
		if !ok {
			return
		}
		if e.Fn == "" || e.Level.Rank() < 0 {
			t.Fatalf("%q decoded to %+v", s, e)
		}
	})
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"A && (B || !C)", "TCG_TPM && ARM_FFA_TRANSPORT && TCG_CRB", "B=m", "!(A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseExpr(s)
		if err != nil {
			return
		}
		v := e.eval(func(string) Tristate { return Module })
		if v > Yes {
			t.Fatalf("%q evaluated to %d", s, v)
		}
		// The printed form parses to an expression with the same value.
		e2, err := parseExpr(e.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, e.String(), err)
		}
		for _, env := range []Tristate{No, Module, Yes} {
			x := func(string) Tristate { return env }
			if e.eval(x) != e2.eval(x) {
				t.Fatalf("%q and %q differ", s, e.String())
			}
		}
	})
}
