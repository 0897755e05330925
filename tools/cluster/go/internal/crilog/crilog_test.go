package crilog

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestOutputIsWrittenInCRIFormatAndTailReassemblesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("y", 40<<10) // longer than a read buffer: written as P parts then F
	cmd := exec.Command("sh", "-c", "echo first; echo "+long+"; printf 'no newline'")
	drained, err := l.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	drained()
	l.Line("note")
	l.Close()

	b, _ := os.ReadFile(path)
	cri := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (stdout|stderr) (F|P) `)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for _, line := range lines {
		if !cri.MatchString(line) {
			t.Fatalf("not a CRI log line: %.80q", line)
		}
	}
	if !strings.Contains(string(b), " stdout P ") {
		t.Fatal("a 40 KiB line was not split into partial (P) entries")
	}
	if got, want := Tail(path, 1<<20), "first\n"+long+"\nno newline\nnote"; got != want {
		t.Fatalf("Tail = %.60q... (%d bytes), want %d bytes", got, len(got), len(want))
	}
	if got := Tail(path, 20); got != "no newline\nnote" {
		t.Fatalf("Tail(20) = %q", got)
	}
}
