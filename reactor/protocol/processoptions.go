package protocol

import (
	"os"
	"slices"
)

// ProcessOption configures [SpawnProcess]: the child's environment
// ([WithEnv]), working directory ([WithDir]), descriptors
// ([WithChildFDs]) and user and group ([WithUID], [WithGID]). The options
// of the sockets that apply to a process are ProcessOptions too:
// [WithLogger], and [WithWriteBuffer] for the pipes to the child.
type ProcessOption interface {
	applyProcess(*processOptions)
}

// applyProcess makes an Option a ProcessOption; one that does not apply to
// a process is ignored by it.
func (o Option) applyProcess(po *processOptions) { o(&po.options) }

// processOption is a ProcessOption of a process alone.
type processOption func(*processOptions)

func (o processOption) applyProcess(po *processOptions) { o(po) }

type processOptions struct {
	options
	env      []string
	envSet   bool
	dir      string
	childFDs map[int]ChildFD
	uid, gid int // -1: unchanged
}

func newProcessOptions(opts []ProcessOption) *processOptions {
	po := &processOptions{options: *newOptions(nil), uid: -1, gid: -1}
	for _, opt := range opts {
		if opt == nil {
			panic("protocol: SpawnProcess: nil ProcessOption")
		}
		opt.applyProcess(po)
	}
	if po.logger == nil {
		po.logger = newOptions(nil).logger
	}
	if po.childFDs == nil {
		po.childFDs = map[int]ChildFD{0: PipeToChild, 1: PipeFromChild, 2: PipeFromChild}
	}
	return po
}

// WithEnv sets the child's whole environment, as "KEY=value" strings:
// Twisted's env. WithEnv() with no strings gives the child an empty
// environment, as Twisted's spawnProcess does by default. Without WithEnv
// the child inherits this process's environment, as Go's os/exec has it
// (Twisted's env=None).
func WithEnv(env ...string) ProcessOption {
	env = slices.Clone(env)
	if env == nil {
		env = []string{}
	}
	return processOption(func(po *processOptions) { po.env, po.envSet = env, true })
}

// WithDir sets the child's working directory: Twisted's path. The default
// is this process's.
func WithDir(dir string) ProcessOption {
	return processOption(func(po *processOptions) { po.dir = dir })
}

// WithUID runs the child as the user uid, which this process must be
// allowed to become (as root): Twisted's uid. Its supplementary groups are
// dropped. Without [WithGID] the child keeps this process's group. A
// negative uid panics. On systems without users, [SpawnProcess] fails.
func WithUID(uid int) ProcessOption {
	if uid < 0 {
		panic("protocol: WithUID: negative uid")
	}
	return processOption(func(po *processOptions) { po.uid = uid })
}

// WithGID runs the child in the group gid: Twisted's gid. Its
// supplementary groups are dropped. A negative gid panics.
func WithGID(gid int) ProcessOption {
	if gid < 0 {
		panic("protocol: WithGID: negative gid")
	}
	return processOption(func(po *processOptions) { po.gid = gid })
}

// ChildFD says what one of the child's descriptors is connected to, in
// [WithChildFDs]: a pipe the protocol reads ([PipeFromChild]), a pipe it
// writes ([PipeToChild]), or a file of this process ([ChildFile]).
type ChildFD struct {
	kind byte // 'r': the parent reads; 'w': the parent writes; 'f': a file
	file *os.File
}

var (
	// PipeFromChild is a pipe the child writes to and the protocol reads
	// from, in OutReceived (descriptor 1), ErrReceived (2) or
	// ChildDataReceived (others): Twisted's "r".
	PipeFromChild = ChildFD{kind: 'r'}

	// PipeToChild is a pipe the protocol writes to, with Write (descriptor
	// 0) or WriteToChild, and the child reads from: Twisted's "w".
	PipeToChild = ChildFD{kind: 'w'}
)

// ChildFile gives the child f itself on a descriptor, as Twisted's childFDs
// do with a descriptor number: the child's standard error may be this
// process's (ChildFile(os.Stderr)), or a file opened for it. The child
// gets a copy of the descriptor; f stays this process's to close, and may
// be closed once SpawnProcess has returned. f is put in blocking mode, as
// os/exec does with the files it passes. A nil f panics.
func ChildFile(f *os.File) ChildFD {
	if f == nil {
		panic("protocol: ChildFile: nil file")
	}
	return ChildFD{kind: 'f', file: f}
}

// WithChildFDs sets the child's descriptors, each key a descriptor number
// of the child: Twisted's childFDs. The child has those descriptors and no
// others (a number left out is closed in the child); the default is
// standard input, output and error each on a pipe:
//
//	map[int]protocol.ChildFD{0: protocol.PipeToChild, 1: protocol.PipeFromChild, 2: protocol.PipeFromChild}
//
// A protocol with pipes beyond descriptor 2 must implement
// [ChildFDProtocol] (SpawnProcess panics otherwise). ProcessEnded waits for
// every pipe to close. A negative descriptor number, or a zero ChildFD,
// panics.
func WithChildFDs(fds map[int]ChildFD) ProcessOption {
	m := make(map[int]ChildFD, len(fds))
	for fd, c := range fds {
		if fd < 0 {
			panic("protocol: WithChildFDs: negative descriptor")
		}
		if c.kind == 0 {
			panic("protocol: WithChildFDs: zero ChildFD")
		}
		m[fd] = c
	}
	return processOption(func(po *processOptions) { po.childFDs = m })
}
