// The Go WASI probe: a command-line program built with GOOS=wasip1 that
// the tests in crates/cli run to check that Go's runtime and standard
// library work on Tern. `build.sh` rebuilds wasm/probe-go.wasm, which is
// committed.
//
// Usage: probe-go MODE [ARGS...]
//
//	hello ARGS...  print the arguments and the environment, one line to stderr
//	exit N         os.Exit(N)
//	panic          an unrecovered panic (Go exits with 2)
//	cat            copy stdin to stdout
//	fs DIR         create, write, read back, seek, stat, mkdir, symlinks,
//	               readdir, rename, chdir and relative paths, walk, remove,
//	               in DIR
//	clock          wall and monotonic clocks, sleeps, timers in goroutines
//	random         crypto/rand
//	all DIR N      hello, fs DIR, clock and random, then os.Exit(N)
//
// Each step prints `ok <step>` or `FAIL <step>: <reason>`; a mode that saw
// a failure exits with 1, else it ends with `<mode> ok`.
package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

var failures int

func check(good bool, step string, err error) {
	switch {
	case good:
		fmt.Printf("ok %s\n", step)
	case err != nil:
		fmt.Printf("FAIL %s: %v\n", step, err)
		failures++
	default:
		fmt.Printf("FAIL %s\n", step)
		failures++
	}
}

// refused checks that err is target (an fs.Err* or a syscall.Errno).
func refused(err error, target error, step string) {
	switch {
	case err == nil:
		fmt.Printf("FAIL %s: succeeded\n", step)
		failures++
	case errors.Is(err, target):
		fmt.Printf("refused %s: %v\n", step, target)
	default:
		fmt.Printf("FAIL %s: %v, want %v\n", step, err, target)
		failures++
	}
}

func finish(mode string) int {
	if failures > 0 {
		fmt.Printf("%s: %d failed\n", mode, failures)
		return 1
	}
	fmt.Printf("%s ok\n", mode)
	return 0
}

func hello(args []string) int {
	fmt.Printf("args: %q\n", args)
	env := os.Environ()
	sort.Strings(env)
	fmt.Printf("env: %q\n", env)
	greeting, ok := os.LookupEnv("GREETING")
	if !ok {
		greeting = "(unset)"
	}
	fmt.Printf("GREETING=%s\n", greeting)
	fmt.Fprintln(os.Stderr, "to stderr")
	return 0
}

func cat() int {
	if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
		fmt.Fprintf(os.Stderr, "cat: %v\n", err)
		return 1
	}
	return 0
}

func fsMode(dir string) int {
	file := path.Join(dir, "go-file.txt")
	f, err := os.Create(file)
	check(err == nil, "create", err)
	if err != nil {
		return finish("fs")
	}
	n, err := f.WriteString("hello, file\n")
	check(err == nil && n == 12, "write", err)
	check(f.Close() == nil, "close", nil)

	f, err = os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	check(err == nil, "open append", err)
	if err == nil {
		_, err = f.WriteString("appended\n")
		check(err == nil, "write append", err)
		f.Close()
	}

	data, err := os.ReadFile(file)
	check(err == nil && string(data) == "hello, file\nappended\n", "read back", err)

	f, err = os.OpenFile(file, os.O_RDWR, 0)
	check(err == nil, "open rdwr", err)
	if err == nil {
		pos, err := f.Seek(7, io.SeekStart)
		check(err == nil && pos == 7, "seek", err)
		buf := make([]byte, 4)
		_, err = io.ReadFull(f, buf)
		check(err == nil && string(buf) == "file", "read at 7", err)
		_, err = f.WriteAt([]byte("HELLO"), 0)
		check(err == nil, "write at 0", err)
		_, err = f.ReadAt(buf, 13)
		check(err == nil && string(buf) == "ppen", "read at 13", err)
		info, err := f.Stat()
		check(err == nil && info.Size() == 21 && info.Mode().IsRegular(), "fstat size 21", err)
		check(f.Truncate(11) == nil, "truncate", nil)
		check(f.Sync() == nil, "sync", nil)
		check(f.Close() == nil, "close rdwr", nil)
	}
	data, err = os.ReadFile(file)
	check(err == nil && string(data) == "HELLO, file", "contents", err)

	sub := path.Join(dir, "go-sub")
	check(os.Mkdir(sub, 0o755) == nil, "mkdir", nil)
	refused(os.Mkdir(sub, 0o755), fs.ErrExist, "mkdir again")
	check(os.MkdirAll(path.Join(sub, "a", "b"), 0o755) == nil, "mkdir -p", nil)
	err = os.WriteFile(path.Join(sub, "a", "b", "deep.txt"), []byte("deep"), 0o644)
	check(err == nil, "write deep", err)

	moved := path.Join(sub, "moved.txt")
	check(os.Rename(file, moved) == nil, "rename", nil)
	_, err = os.Stat(file)
	refused(err, fs.ErrNotExist, "old name gone")
	info, err := os.Stat(moved)
	check(err == nil && info.Size() == 11 && info.Name() == "moved.txt", "stat new name", err)

	link := path.Join(sub, "link")
	check(os.Symlink("moved.txt", link) == nil, "symlink", nil)
	target, err := os.Readlink(link)
	check(err == nil && target == "moved.txt", "readlink", err)
	info, err = os.Lstat(link)
	check(err == nil && info.Mode()&fs.ModeSymlink != 0, "lstat is link", err)
	info, err = os.Stat(link)
	check(err == nil && info.Size() == 11, "stat follows link", err)

	entries, err := os.ReadDir(sub)
	var names []string
	for _, e := range entries {
		kind := "file"
		switch {
		case e.IsDir():
			kind = "dir"
		case e.Type()&fs.ModeSymlink != 0:
			kind = "link"
		}
		names = append(names, e.Name()+":"+kind)
	}
	fmt.Printf("readdir: %s\n", strings.Join(names, " "))
	check(err == nil && strings.Join(names, " ") == "a:dir link:link moved.txt:file", "readdir", err)

	// Go keeps the working directory itself and resolves relative paths
	// against it.
	check(os.Chdir(sub) == nil, "chdir", nil)
	wd, err := os.Getwd()
	check(err == nil && wd == sub, "getwd", err)
	data, err = os.ReadFile("a/b/deep.txt")
	check(err == nil && string(data) == "deep", "read relative", err)
	check(os.Rename("moved.txt", "a/renamed.txt") == nil, "rename relative", nil)
	err = os.Chdir("..")
	check(err == nil, "chdir ..", err)
	wd, err = os.Getwd()
	check(err == nil && wd == dir, "getwd after chdir ..", err)

	var walked []string
	err = fs.WalkDir(os.DirFS(sub), ".", func(p string, d fs.DirEntry, err error) error {
		walked = append(walked, p)
		return err
	})
	fmt.Printf("walk: %s\n", strings.Join(walked, " "))
	check(err == nil && strings.Join(walked, " ") == ". a a/b a/b/deep.txt a/renamed.txt link", "walk", err)

	refused(os.Remove(sub), fs.ErrExist, "remove non-empty")
	check(os.Remove(path.Join(sub, "a", "renamed.txt")) == nil, "remove file", nil)
	refused(os.Remove(path.Join(sub, "a", "renamed.txt")), fs.ErrNotExist, "remove again")
	check(os.RemoveAll(sub) == nil, "remove all", nil)
	_, err = os.Stat(sub)
	refused(err, fs.ErrNotExist, "removed dir gone")

	return finish("fs")
}

func clock() int {
	now := time.Now()
	check(now.Year() >= 2024, "wall clock", nil)
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	slept := time.Since(start)
	check(slept >= 20*time.Millisecond && slept < 5*time.Second, "sleep 20ms", nil)

	// Timers in goroutines, none woken before its deadline. (The order
	// they run in is up to the scheduler once several have expired.)
	var mu sync.Mutex
	early := 0
	var wg sync.WaitGroup
	for _, ms := range []int{30, 10, 20} {
		wg.Add(1)
		go func(ms int) {
			defer wg.Done()
			want := time.Duration(ms) * time.Millisecond
			begin := time.Now()
			<-time.After(want)
			if time.Since(begin) < want {
				mu.Lock()
				early++
				mu.Unlock()
			}
		}(ms)
	}
	wg.Wait()
	check(early == 0, "timers in goroutines", nil)

	select {
	case <-time.After(10 * time.Millisecond):
		check(true, "select timeout", nil)
	case <-make(chan int):
		check(false, "select timeout", nil)
	}
	return finish("clock")
}

func random() int {
	a := make([]byte, 32)
	b := make([]byte, 32)
	_, errA := rand.Read(a)
	_, errB := rand.Read(b)
	check(errA == nil && errB == nil && !bytes.Equal(a, b), "crypto/rand", errA)
	return finish("random")
}

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: probe-go MODE [ARGS...]")
		return 2
	}
	mode, rest := args[0], args[1:]
	switch {
	case mode == "hello":
		return hello(rest)
	case mode == "exit" && len(rest) == 1:
		code, err := strconv.Atoi(rest[0])
		if err != nil {
			fmt.Fprintf(os.Stderr, "exit: %v\n", err)
			return 2
		}
		return code
	case mode == "panic":
		panic("probe-go was asked to panic")
	case mode == "cat":
		return cat()
	case mode == "fs" && len(rest) == 1:
		return fsMode(rest[0])
	case mode == "clock":
		return clock()
	case mode == "random":
		return random()
	case mode == "all" && len(rest) == 2:
		hello(nil)
		fsMode(rest[0])
		clock()
		random()
		if failures > 0 {
			return 1
		}
		code, err := strconv.Atoi(rest[1])
		if err != nil {
			fmt.Fprintf(os.Stderr, "all: %v\n", err)
			return 2
		}
		return code
	}
	fmt.Fprintf(os.Stderr, "probe-go: unknown mode %q\n", mode)
	return 2
}

func main() {
	os.Exit(run(os.Args[1:]))
}
