#!/bin/sh
# The FUSE workload: the parts of interop/testdata/workload.sh (the kernel
# client's) that a FUSE mount can express, run with the host's sh and
# coreutils on the mount at $MNT. One PASS or FAIL line per item; exit 1 at
# the first FAIL.
#
# Left out, with the reason:
#   - mount options (/proc/mounts shows fuse.gonfs, not nfs);
#   - root_squash and chown: the mount's NFS credential is one user's,
#     whoever the local caller is;
#   - FIFO and device nodes: mknod creates regular files only (ENOTSUP);
#   - fallocate, hole punching, SEEK_DATA, copy_file_range, xattrs: not
#     wired through the mount yet;
#   - fcntl locks are checked from Go (two processes, mount_test.go);
#   - the big file is $big (64 MiB; the kernel suite uses 256 MiB).
big=${big:-64}
entries=${entries:-2000}
W=$MNT/work

pass() { echo "PASS $item"; }
fail() { echo "FAIL $item: $1"; exit 1; }
T0=$(date +%s.%N)
begin() { item=$1; echo "--- $item ($(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')s)"; }
run() { "$@" || fail "$* exited $?"; }
same() { [ "$2" = "$3" ] || fail "$1 is \"$2\", want \"$3\""; }

rm -rf "$W"
run mkdir "$W"

begin "create, write, read, append"
f=$W/hello
echo "line one" > "$f" || fail "create"
same "content" "$(cat "$f")" "line one"
echo "line two" >> "$f" || fail "append"
same "content after append" "$(cat "$f")" "line one
line two"
same "size" "$(stat -c %s "$f")" 18
printf 'X' | dd of="$f" bs=1 seek=5 conv=notrunc 2> /dev/null || fail "overwrite in place"
same "content after overwrite" "$(head -n1 "$f")" "line Xne"
pass

begin "truncate"
f=$W/trunc
seq 1 1000 > "$f"
run truncate -s 10 "$f"
same "size after shrink" "$(stat -c %s "$f")" 10
same "content after shrink" "$(cat "$f")" "$(seq 1 1000 | head -c 10)"
run truncate -s 100000 "$f"
same "size after grow" "$(stat -c %s "$f")" 100000
same "non-zero bytes past the old end" "$(tail -c 99990 "$f" | tr -d '\000' | wc -c)" 0
run truncate -s 0 "$f"
same "size after truncate to 0" "$(stat -c %s "$f")" 0
pass

begin "rename"
mkdir -p "$W/r1" "$W/r2"
echo a > "$W/r1/a"
run mv "$W/r1/a" "$W/r1/b"
[ ! -e "$W/r1/a" ] || fail "old name still there after a rename"
same "renamed file" "$(cat "$W/r1/b")" a
run mv "$W/r1/b" "$W/r2/c"
[ ! -e "$W/r1/b" ] || fail "old name still there after a rename across directories"
same "file moved across directories" "$(cat "$W/r2/c")" a
echo target > "$W/r2/t"
run mv "$W/r2/c" "$W/r2/t"
same "renamed over an existing target" "$(cat "$W/r2/t")" a
[ ! -e "$W/r2/c" ] || fail "source still there after a rename over a target"
same "entries in r2" "$(ls "$W/r2")" t
mkdir -p "$W/r1/sub/deeper"
echo x > "$W/r1/sub/deeper/x"
run mv "$W/r1/sub" "$W/r2/sub2"
same "file in a renamed directory" "$(cat "$W/r2/sub2/deeper/x")" x
[ ! -e "$W/r1/sub" ] || fail "directory still at its old name"
pass

begin "hard links"
f=$W/link-a
echo linked > "$f"
run ln "$f" "$W/link-b"
same "link count" "$(stat -c %h "$f")" 2
same "same inode" "$(stat -c %i "$W/link-b")" "$(stat -c %i "$f")"
echo more >> "$W/link-b"
same "write through one name, read through the other" "$(cat "$f")" "linked
more"
run ln "$f" "$W/r1/link-c"
same "link count with a link in another directory" "$(stat -c %h "$f")" 3
run rm "$W/link-b"
same "link count after removing one name" "$(stat -c %h "$f")" 2
pass

begin "symlinks"
echo pointee > "$W/pointee"
run ln -s pointee "$W/sym"
same "readlink" "$(readlink "$W/sym")" pointee
same "file type" "$(stat -c %F "$W/sym")" "symbolic link"
same "read through the link" "$(cat "$W/sym")" pointee
run ln -s ../work/no/such/file "$W/dangling"
same "dangling readlink" "$(readlink "$W/dangling")" ../work/no/such/file
pass

begin "mkdir and rmdir"
run mkdir -p "$W/d1/d2"
[ -d "$W/d1/d2" ] || fail "no directory after mkdir"
touch "$W/d1/d2/f"
rmdir "$W/d1/d2" 2> /dev/null && fail "rmdir of a non-empty directory succeeded"
run rm "$W/d1/d2/f"
same "link count of a directory with no subdirectories" "$(stat -c %h "$W/d1/d2")" 2
run rmdir "$W/d1/d2"
[ ! -e "$W/d1/d2" ] || fail "directory still there after rmdir"
run rmdir "$W/d1"
pass

begin "chmod and utimes"
f=$W/modes
echo m > "$f"
run chmod 640 "$f"
same "mode" "$(stat -c %a "$f")" 640
run chmod 4755 "$f"
same "mode with setuid" "$(stat -c %a "$f")" 4755
run touch -d "2001-02-03 04:05:06 UTC" "$f"
same "mtime" "$(stat -c %Y "$f")" "$(date -u -d "2001-02-03 04:05:06" +%s)"
same "atime" "$(stat -c %X "$f")" "$(date -u -d "2001-02-03 04:05:06" +%s)"
pass

begin "sparse file"
f=$W/sparse
printf start > "$f"
printf end | dd of="$f" bs=1 seek=10485760 conv=notrunc 2> /dev/null || fail "write past a hole"
same "size" "$(stat -c %s "$f")" 10485763
same "non-zero bytes" "$(tr -d '\000' < "$f")" startend
pass

begin "big file of $big MiB, checksum"
head -c $((big * 1048576)) /dev/urandom > "$W/big.src" 2> /dev/null || fail "make the source"
run cp "$W/big.src" "$W/big"
same "size" "$(stat -c %s "$W/big")" $((big * 1048576))
same "checksum" "$(sha256sum < "$W/big")" "$(sha256sum < "$W/big.src")"
run rm "$W/big" "$W/big.src"
pass

begin "readdir of $entries entries"
mkdir "$W/many"
(cd "$W/many" && seq 1 "$entries" | xargs touch) || fail "create $entries files"
same "entries" "$(ls "$W/many" | wc -l)" "$entries"
same "entries with ls -l" "$(ls -l "$W/many" | grep -c '^-')" "$entries"
run rm -r "$W/many"
[ ! -e "$W/many" ] || fail "directory still there"
pass

echo "ALL PASS"
