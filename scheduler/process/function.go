package process

import (
	"context"
	"errors"
	"fmt"

	"github.com/twinego/twine/deferred"
)

// Function is a registered function as the serving side of a [Runner] sees
// it: found by name with [Lookup], it decodes an argument, runs, and encodes
// a result, each step with an error of its own, so that a server can tell
// bad input from a failed call. scheduler/remote's workers serve through it;
// a [*Pool]'s workers need nothing of it. Its methods are safe to use from
// any goroutine. The zero value is not usable.
type Function struct{ e *entry }

// ErrStreamFunction is the error of [Function.Run] for a function registered
// with [RegisterStream]: it yields values one by one, which only a [*Pool]
// carries.
var ErrStreamFunction = errors.New("process: a stream function runs on a Pool only")

// Lookup returns the function registered under name with [Register] or
// [RegisterStream], and false if there is none. A server uses it to run the
// calls that reach its process some other way than from a [*Pool].
func Lookup(name string) (*Function, bool) {
	registry.Lock()
	defer registry.Unlock()
	e, ok := registry.byName[name]
	if !ok {
		return nil, false
	}
	return &Function{e: e}, true
}

// LookupCodec returns the codec registered under name with [RegisterCodec]
// ([Gob] is), and false if there is none: a server finds the codec of a call
// by the name the call came with.
func LookupCodec(name string) (Codec, bool) { return lookupCodec(name) }

// Name returns the name f was registered under.
func (f *Function) Name() string { return f.entry("Function.Name").name }

// Signature returns f's type as the registry writes it; it is the
// [Call.Signature] of a call of the same function.
func (f *Function) Signature() string { return f.entry("Function.Signature").sig }

// Stream reports whether f was registered with [RegisterStream].
func (f *Function) Stream() bool { return f.entry("Function.Stream").stream }

// DecodeArg decodes data, the encoding of an argument of f made by the peer
// of dec ([Call.AppendArg]), and returns the argument for [Function.Run]. An
// argument of a zero-size type is not decoded at all.
func (f *Function) DecodeArg(data []byte, dec Decoder) (any, error) {
	e := f.entry("Function.DecodeArg")
	if dec == nil {
		panic("process: Function.DecodeArg: nil Decoder")
	}
	return e.decodeArg(dec, data)
}

// Run runs f with arg, a value that DecodeArg returned, on the calling
// goroutine, and returns its result for [Function.EncodeResult], or its
// error. A panic in f is recovered and returned as a *deferred.PanicError
// with the panic value and the stack where it happened. A function registered with
// [RegisterStream] is not run: Run returns [ErrStreamFunction]. If f calls
// runtime.Goexit, Run does not return, as any function would not.
func (f *Function) Run(ctx context.Context, arg any) (result any, err error) {
	e := f.entry("Function.Run")
	if e.stream {
		return nil, fmt.Errorf("%w: %q", ErrStreamFunction, e.name)
	}
	defer func() {
		if v := recover(); v != nil {
			result, err = nil, deferred.NewPanicError(v)
		}
	}()
	return e.call(ctx, arg)
}

// EncodeResult appends the encoding of result, a value that Run returned, by
// enc to dst and returns the extended slice, or dst and the encoder's error.
// A result of a zero-size type encodes as nothing at all.
func (f *Function) EncodeResult(dst []byte, enc Encoder, result any) ([]byte, error) {
	e := f.entry("Function.EncodeResult")
	if enc == nil {
		panic("process: Function.EncodeResult: nil Encoder")
	}
	if e.resEmpty {
		return dst, nil
	}
	return enc.Encode(dst, result)
}

func (f *Function) entry(method string) *entry {
	if f == nil || f.e == nil {
		panic("process: " + method + ": Function not found by Lookup")
	}
	return f.e
}
