package release

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// limitedWriter fails once it has taken max bytes.
type limitedWriter struct {
	buf bytes.Buffer
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.max {
		return 0, errors.New("disk full")
	}
	return w.buf.Write(p)
}

func TestPipeCopy(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 100_000) // 1.6 MB, many buffers
	readErr := errors.New("connection reset")
	tests := []struct {
		name    string
		src     io.Reader
		max     int // writer capacity; 0 = unlimited
		want    int64
		wantErr error
	}{
		{name: "whole body", src: bytes.NewReader(data), want: int64(len(data))},
		{name: "one byte per read", src: iotest.OneByteReader(bytes.NewReader(data[:5000])), want: 5000},
		{name: "data with EOF", src: iotest.DataErrReader(bytes.NewReader(data)), want: int64(len(data))},
		{name: "read error after data", src: io.MultiReader(bytes.NewReader(data[:1000]), iotest.ErrReader(readErr)), want: 1000, wantErr: readErr},
		{name: "write error stops the copy", src: bytes.NewReader(data), max: 3 * 4096, want: 0, wantErr: errors.New("disk full")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bufs := [][]byte{make([]byte, 4096), make([]byte, 4096), make([]byte, 4096)}
			var dst io.Writer
			var got *bytes.Buffer
			if tt.max > 0 {
				lw := &limitedWriter{max: tt.max}
				dst, got = lw, &lw.buf
			} else {
				got = &bytes.Buffer{}
				dst = got
			}
			var near bytes.Buffer
			n, err := pipeCopy(dst, tt.src, &near, bufs, nil)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.wantErr != nil && (err == nil || err.Error() != tt.wantErr.Error()):
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if tt.max == 0 && n != tt.want {
				t.Errorf("got %d bytes written, want %d", n, tt.want)
			}
			if int64(got.Len()) != n {
				t.Errorf("reported %d bytes, destination holds %d", n, got.Len())
			}
			if !bytes.Equal(got.Bytes(), data[:got.Len()]) {
				t.Error("destination holds bytes out of order or corrupted")
			}
			if near.Len() < got.Len() || !bytes.Equal(near.Bytes(), data[:near.Len()]) {
				t.Errorf("near writer: got %d bytes (in order: %v), want at least the %d dst got, in order", near.Len(), bytes.Equal(near.Bytes(), data[:near.Len()]), got.Len())
			}
		})
	}
}
