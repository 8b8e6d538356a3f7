package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// dirSource is a local directory in the bucket layout, e.g. a copy made with
// `ssm-setup download` or `aws s3 sync` for air-gapped hosts.
type dirSource struct {
	dir string
	log *slog.Logger
}

func newDirSource(dir string, o SourceOptions) (Source, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, badSource(dir, err.Error())
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fail.WithHint(fail.Usagef("release source directory %s: %w", abs, err), "pass an existing directory in the bucket layout (VERSION/FOLDER/FILE)")
	}
	if !st.IsDir() {
		return nil, fail.Usagef("release source %s: not a directory", abs)
	}
	return &dirSource{dir: abs, log: orDiscard(o.Logger)}, nil
}

func (s *dirSource) path(key string) string { return filepath.Join(s.dir, filepath.FromSlash(key)) }

func (s *dirSource) URL(key string) string { return s.path(key) }

func (s *dirSource) String() string { return s.dir }

// Open opens the file of key and seeks to offset.
func (s *dirSource) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := checkKey(key); err != nil {
		return nil, 0, err
	}
	p := s.path(key)
	f, err := os.Open(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, 0, fail.Wrap(fail.Download, &statusError{msg: "not found: " + p, base: ErrNotFound, err: err})
	case errors.Is(err, fs.ErrPermission):
		return nil, 0, fail.WithHint(fail.Wrap(fail.Download, &statusError{msg: "access denied: " + p, base: ErrForbidden, err: err}), "run as root or make the mirror readable")
	case err != nil:
		return nil, 0, fail.Wrap(fail.Download, fmt.Errorf("open %s: %w", p, err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fail.Wrap(fail.Download, fmt.Errorf("stat %s: %w", p, err))
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, fail.Wrap(fail.Download, &statusError{msg: "not found: " + p + " (a directory)", base: ErrNotFound})
	}
	if offset > st.Size() {
		f.Close()
		return nil, 0, fail.New(fail.Download, "resume %s at byte %d: the file has only %d bytes", p, offset, st.Size())
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, 0, fail.Wrap(fail.Download, fmt.Errorf("seek %s: %w", p, err))
		}
	}
	return f, st.Size(), nil
}

// listVersions lists the version directories that hold FOLDER/FILE, newest first.
func (s *dirSource) listVersions(folder string) ([]Version, error) {
	file, err := FileName(folder)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fail.Wrap(fail.Download, fmt.Errorf("list %s: %w", s.dir, err))
	}
	var out []Version
	for _, e := range entries {
		v, err := ParseVersion(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		if st, err := os.Stat(filepath.Join(s.dir, e.Name(), folder, file)); err == nil && st.Mode().IsRegular() {
			out = append(out, v)
		}
	}
	return sortNewestFirst(out), nil
}
