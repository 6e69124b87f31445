package readmetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// TestReadmeProgramsRun runs every complete program (a ```go block that
// starts with "package main") of README.md with go run.
func TestReadmeProgramsRun(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	programs := 0
	for i, m := range goBlock.FindAllSubmatch(readme, -1) {
		src := string(m[1])
		if !strings.HasPrefix(src, "package main") {
			continue
		}
		programs++
		file := filepath.Join(t.TempDir(), "main.go")
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, "go", "run", file)
		cmd.Dir = "../.." // the module, so that the program's imports resolve to this tree
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("README program %d (first line %q) failed: %v\n%s", i, firstLine(src[len("package main"):]), err, out)
		}
	}
	if programs == 0 {
		t.Fatal("README.md has no complete Go program: the quickstart is missing")
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
