package acctest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's facts about the tests are checked here rather than trusted:
// every test it names exists, and the versions it gives are the ones used.

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testFuncNames are the names of every Test function in the repository.
func testFuncNames(t *testing.T) []string {
	t.Helper()
	funcRE := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	var names []string
	err := filepath.WalkDir(filepath.Join("..", ".."), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".cache" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range funcRE.FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestReadmeNamesTestsThatExist checks each test the README and
// PERFORMANCE.md cite: `TestX` must exist, `TestX*` must match at least one
// test, and `..._suffix` (a shorthand for the test named just before) must
// end at least one.
func TestReadmeNamesTestsThatExist(t *testing.T) {
	names := testFuncNames(t)
	for _, doc := range []string{"README.md", "PERFORMANCE.md"} {
		checkCitedTestsExist(t, doc, readRepoFile(t, doc), names)
	}
}

func checkCitedTestsExist(t *testing.T, doc, text string, names []string) {
	t.Helper()
	cited := regexp.MustCompile("`((?:Test|\\.\\.\\._)\\w+\\*?)`").FindAllStringSubmatch(text, -1)
	if len(cited) == 0 {
		t.Fatalf("%s cites no test: has the text that cites them moved?", doc)
	}
	for _, c := range cited {
		ref := c[1]
		found := false
		for _, n := range names {
			switch {
			case strings.HasPrefix(ref, "..."):
				found = strings.HasSuffix(n, strings.TrimPrefix(ref, "..."))
			case strings.HasSuffix(ref, "*"):
				found = strings.HasPrefix(n, strings.TrimSuffix(ref, "*"))
			default:
				found = n == ref
			}
			if found {
				break
			}
		}
		if !found {
			t.Errorf("%s cites `%s`, but no test function matches it: rename it there", doc, ref)
		}
	}
}

// TestReadmeVersionsAreTheOnesUsed checks the versions the README's test
// section gives against go.mod and the CLIs this package installs.
func TestReadmeVersionsAreTheOnesUsed(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	for _, want := range []string{
		"Go " + goLine[1] + " or later",
		"terraform-" + TerraformVersion + "/",
		"tofu-" + OpenTofuVersion + "/",
		"OpenTofu " + OpenTofuVersion,
		"Terraform " + TerraformVersion,
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md does not say %q: update it to what go.mod and internal/acctest use", want)
		}
	}
}
