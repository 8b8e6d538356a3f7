package release

import (
	"path"
	"path/filepath"
	"runtime"
)

// Cache is a directory of verified packages in the bucket layout:
// DIR/VERSION/FOLDER/FILE with FILE.sig beside it. The caller checks a cached package
// (signature and digest) before it uses it instead of downloading.
type Cache struct {
	Dir string
}

// Path is where the cache keeps file of version in folder: Dir/VERSION/FOLDER/FILE.
func (c Cache) Path(version, folder, file string) string {
	return filepath.Join(c.Dir, version, folder, file)
}

// DefaultCacheDir is the cache directory: /var/cache/ssm-setup as root; otherwise
// $XDG_CACHE_HOME/ssm-setup, else $HOME/.cache/ssm-setup (the XDG base directory
// spec; a relative XDG_CACHE_HOME is ignored, as the spec says). On Windows it is
// %ProgramData%\ssm-setup\cache as Administrator, else %LOCALAPPDATA%\ssm-setup\cache;
// on macOS /Library/Caches/ssm-setup as root, else ~/Library/Caches/ssm-setup. It is
// "" when the environment names no home directory; the caller then does not cache.
func DefaultCacheDir(isRoot bool, getenv func(string) string) string {
	return defaultCacheDir(runtime.GOOS, isRoot, getenv)
}

func defaultCacheDir(goos string, isRoot bool, getenv func(string) string) string {
	switch goos {
	case "windows":
		name := "LOCALAPPDATA"
		if isRoot {
			name = "ProgramData"
		}
		if d := getenv(name); d != "" {
			return filepath.Join(d, "ssm-setup", "cache")
		}
		return ""
	case "darwin":
		if isRoot {
			return "/Library/Caches/ssm-setup"
		}
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Caches", "ssm-setup")
		}
		return ""
	}
	if isRoot {
		return "/var/cache/ssm-setup"
	}
	if x := getenv("XDG_CACHE_HOME"); x != "" && path.IsAbs(x) {
		return filepath.Join(x, "ssm-setup")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "ssm-setup")
	}
	return ""
}
