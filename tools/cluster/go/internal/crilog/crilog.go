// Package crilog writes container logs in the CRI format that kwok (like the
// kubelet) parses for `kubectl logs`: "<RFC3339Nano> <stream> <F|P> <text>".
package crilog

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// File is a log file shared by a container's stdout and stderr.
type File struct {
	mu sync.Mutex
	f  *os.File
}

// Open appends to path.
func Open(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	return &File{f: f}, nil
}

// Close closes the file; call it after every Pipe's wait.
func (l *File) Close() error { return l.f.Close() }

// Line writes one complete line (pod-runner's own notes, as stderr).
func (l *File) Line(text string) {
	l.write("stderr", "F", []byte(text))
}

func (l *File) write(stream, tag string, text []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := make([]byte, 0, len(text)+48)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(append(append(append(b, ' '), stream...), ' '), tag...)
	b = append(append(append(b, ' '), text...), '\n')
	_, _ = l.f.Write(b) // a full disk loses log lines, not the container
}

// Start starts cmd with its stdout and stderr written to the file. drained returns
// once every process holding the output (backends inherit it) has closed it.
func (l *File) Start(cmd *exec.Cmd) (drained func(), err error) {
	ow, owait, err := l.pipe("stdout")
	if err != nil {
		return nil, err
	}
	ew, ewait, err := l.pipe("stderr")
	if err != nil {
		ow.Close()
		owait()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = ow, ew
	err = cmd.Start()
	ow.Close() // the child has its own copies
	ew.Close()
	drained = func() { owait(); ewait() }
	if err != nil {
		drained()
		return nil, err
	}
	return drained, nil
}

// pipe returns the write end of a pipe whose lines go to the file, and a wait
// that returns when all writers closed it and everything was written.
func (l *File) pipe(stream string) (w *os.File, wait func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer r.Close()
		br := bufio.NewReaderSize(r, 16<<10)
		for {
			// Lines longer than the buffer are written in parts, tagged P like the kubelet does.
			line, isPrefix, err := br.ReadLine()
			if len(line) > 0 || (err == nil && !isPrefix) {
				tag := "F"
				if isPrefix {
					tag = "P"
				}
				l.write(stream, tag, line)
			}
			if err != nil {
				return
			}
		}
	}()
	return w, func() { <-done }, nil
}

// Tail returns the text of the last lines of a CRI log, at most max bytes.
func Tail(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var out bytes.Buffer
	for line := range bytes.Lines(b) {
		f := bytes.SplitN(bytes.TrimRight(line, "\n"), []byte(" "), 4)
		if len(f) < 3 {
			continue
		}
		if len(f) == 4 {
			out.Write(f[3])
		}
		if string(f[2]) == "F" {
			out.WriteByte('\n')
		}
	}
	text := strings.TrimRight(out.String(), "\n")
	if len(text) > max {
		text = text[len(text)-max:]
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[i+1:]
		}
	}
	return text
}
