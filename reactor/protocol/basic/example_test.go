package basic_test

import (
	"bytes"
	"fmt"

	"github.com/twinego/twine/reactor/protocol/basic"
	"github.com/twinego/twine/reactor/protocol/protocoltest"
)

// Shout is the port of a Twisted LineReceiver subclass that answers each
// line in capitals and closes the connection on "bye".
type Shout struct{ basic.LineReceiver }

func NewShout() *Shout {
	s := &Shout{}
	s.Handler = s
	return s
}

func (s *Shout) LineReceived(line []byte) {
	if string(line) == "bye" {
		s.Transport.LoseConnection()
		return
	}
	_ = s.SendLine(bytes.ToUpper(line))
}

// Listener prints the lines it receives.
type Listener struct{ basic.LineReceiver }

func (l *Listener) LineReceived(line []byte) { fmt.Printf("%s\n", line) }

func ExampleLineReceiver() {
	client := &Listener{}
	client.Handler = client
	pump := protocoltest.Connect(NewShout(), client)
	_ = client.SendLine([]byte("hello"))
	_ = client.SendLine([]byte("world"))
	_ = client.SendLine([]byte("bye"))
	_ = client.SendLine([]byte("never read"))
	pump.Flush()
	fmt.Println(client.Connected)
	// Output:
	// HELLO
	// WORLD
	// false
}

// Upload reads a header line with a length, the body in raw mode, and
// goes back to lines after it.
type Upload struct {
	basic.LineReceiver
	left int
}

func (u *Upload) LineReceived(line []byte) {
	if _, err := fmt.Sscanf(string(line), "BODY %d", &u.left); err == nil {
		u.SetRawMode()
		return
	}
	fmt.Printf("line %q\n", line)
}

func (u *Upload) RawDataReceived(data []byte) {
	n := min(u.left, len(data))
	fmt.Printf("body %q\n", data[:n])
	u.left -= n
	if u.left == 0 {
		u.SetLineMode(data[n:]) // the rest of the chunk is lines again
	}
}

func ExampleLineReceiver_SetRawMode() {
	u := &Upload{}
	u.Handler = u
	tr := protocoltest.NewStringTransport()
	tr.Connect(u)
	tr.FeedString("BODY 5\r\nhellonext\r\n")
	// Output:
	// body "hello"
	// line "next"
}

// Tally is a netstring protocol that prints what it gets.
type Tally struct{ basic.NetstringReceiver }

func (t *Tally) StringReceived(s []byte) { fmt.Printf("%q\n", s) }

func ExampleNetstringReceiver() {
	t := &Tally{}
	t.Handler = t
	tr := protocoltest.NewStringTransport()
	tr.Connect(t)
	_ = t.SendString([]byte("hello"))
	fmt.Println(tr.String())
	tr.FeedString("3:abc,0:,")
	tr.FeedString("x") // not a netstring
	fmt.Println(tr.Disconnecting(), t.Err())
	// Output:
	// 5:hello,
	// "abc"
	// ""
	// true basic: netstring parse error: the netstring does not start with a length
}

// Frames prints the strings of an Int32StringReceiver.
type Frames struct{ basic.Int32StringReceiver }

func (f *Frames) StringReceived(s []byte) { fmt.Printf("%q\n", s) }

func ExampleInt32StringReceiver() {
	f := &Frames{}
	f.Handler = f
	f.MaxLength = 1024
	tr := protocoltest.NewStringTransport()
	tr.Connect(f)
	tr.Feed([]byte("\x00\x00\x00\x02hi\x00\x00\x00\x03yo"))
	tr.Feed([]byte("u"))
	tr.Feed([]byte("\x00\x01\x00\x00")) // 65536 bytes announced: over the limit
	fmt.Println(tr.Disconnecting(), f.Err())
	// Output:
	// "hi"
	// "you"
	// true basic: length limit exceeded: a length prefix of 65536, over the limit of 1024
}

// Words counts the words of each line.
type Words struct{ basic.LineOnlyReceiver }

func (w *Words) LineReceived(line []byte) { fmt.Println(len(bytes.Fields(line))) }

func ExampleLineOnlyReceiver() {
	w := &Words{}
	w.Handler = w
	w.Delimiter = []byte("\n")
	tr := protocoltest.NewStringTransport()
	tr.Connect(w)
	tr.FeedString("one two\nthree four fi")
	tr.FeedString("ve six\n")
	// Output:
	// 2
	// 4
}
