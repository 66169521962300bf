// Package junit writes JUnit XML reports, the test report format CI
// systems read (GitHub Actions through a reporter action, GitLab, Jenkins):
// <testsuites><testsuite name tests failures><testcase name classname>
// <failure message>…</failure></testcase></testsuite></testsuites>.
package junit

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Suites is the document: one or more test suites.
type Suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr,omitempty"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []Suite  `xml:"testsuite"`
}

// Suite is one test suite: a verb's checks of one run.
type Suite struct {
	Name      string `xml:"name,attr"`
	Tests     int    `xml:"tests,attr"`
	Failures  int    `xml:"failures,attr"`
	Errors    int    `xml:"errors,attr"`
	Skipped   int    `xml:"skipped,attr"`
	Timestamp string `xml:"timestamp,attr,omitempty"`
	Cases     []Case `xml:"testcase"`
}

// Case is one test case: one threshold on one subject, or one compared row.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Failure   *Failure `xml:"failure,omitempty"`
	Skipped   *Skipped `xml:"skipped,omitempty"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// Failure marks a failed case; Message is its one line, Text the detail.
type Failure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// Skipped marks a case that could not be decided.
type Skipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// NewSuite is a suite of cases with its counts filled in, stamped now.
func NewSuite(name string, cases []Case) Suite {
	s := Suite{Name: name, Cases: cases, Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05")}
	for _, c := range cases {
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	return s
}

// Document wraps suites in a <testsuites> element with the totals.
func Document(name string, suites ...Suite) Suites {
	d := Suites{Name: name, Suites: suites}
	for _, s := range suites {
		d.Tests += s.Tests
		d.Failures += s.Failures
		d.Skipped += s.Skipped
	}
	return d
}

// Marshal is the document as indented XML with its declaration.
func (d Suites) Marshal() ([]byte, error) {
	b, err := xml.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

// WriteFile writes the document to path (through a temporary file, so a
// reader never sees half of it).
func (d Suites) WriteFile(path string) error {
	b, err := d.Marshal()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".junit-*.xml")
	if err != nil {
		return fmt.Errorf("junit %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("junit %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("junit %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("junit %s: %w", path, err)
	}
	return nil
}

// Read decodes a JUnit document (for tests and tools that check one).
func Read(path string) (Suites, error) {
	var d Suites
	b, err := os.ReadFile(path)
	if err != nil {
		return d, fmt.Errorf("junit: %w", err)
	}
	if err := xml.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("junit %s: %w", path, err)
	}
	return d, nil
}

// CheckPath refuses, before a run, a path whose folder does not exist or
// that is a folder itself.
func CheckPath(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("--junit %s is a folder: name the XML file to write", path)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("--junit %s: folder %s does not exist", path, dir)
	}
	return nil
}
