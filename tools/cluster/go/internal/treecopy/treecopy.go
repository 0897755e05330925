// Package treecopy copies a directory tree keeping modes, owners and times,
// so that a copied PostgreSQL data directory still belongs to uid postgres.
package treecopy

import (
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Copy copies the tree at src to dst, which must not exist. It copies regular
// files, directories and symlinks; sockets, FIFOs and devices are skipped
// (they carry no data). It returns the disk bytes used by the copy.
func Copy(src, dst string) (int64, error) {
	var used int64
	err := copyEntry(src, dst, &used)
	return used, err
}

func copyEntry(src, dst string, used *int64) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	st := fi.Sys().(*syscall.Stat_t)
	switch mode := fi.Mode(); {
	case mode.IsDir():
		if err := os.Mkdir(dst, 0o700); err != nil {
			return err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := copyEntry(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), used); err != nil {
				return err
			}
		}
	case mode.IsRegular():
		if err := copyFile(src, dst); err != nil {
			return err
		}
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
		return os.Lchown(dst, int(st.Uid), int(st.Gid))
	default:
		log.Printf("treecopy: skipping %s (%s)", src, mode.Type())
		return nil
	}
	// Owner before mode: chown clears setuid/setgid bits.
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if err := os.Chmod(dst, fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	// Directory times last, after its entries were written.
	if err := os.Chtimes(dst, time.Unix(st.Atim.Unix()), fi.ModTime()); err != nil {
		return err
	}
	var dstSt syscall.Stat_t
	if err := syscall.Lstat(dst, &dstSt); err != nil {
		return err
	}
	*used += dstSt.Blocks * 512
	return nil
}

// copyFile uses io.Copy between two *os.File, which Go turns into
// copy_file_range(2): in-kernel, and a reflink on XFS/btrfs.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}
