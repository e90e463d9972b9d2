package basic

import "errors"

var (
	// ErrLineLengthExceeded is why a line receiver closed the connection:
	// a line, or the bytes waiting for a delimiter, went over its
	// MaxLength. Twisted's LineReceiver closes the connection there too,
	// without an error of its own.
	ErrLineLengthExceeded = errors.New("basic: line length exceeded")

	// ErrLengthLimitExceeded is why a length-prefixed receiver closed the
	// connection: a length prefix over its MaxLength arrived, and the
	// string was not read. A netstring's error matches it too.
	ErrLengthLimitExceeded = errors.New("basic: length limit exceeded")

	// ErrNetstringParse is why a NetstringReceiver closed the connection:
	// the bytes are not a netstring (no length, a leading zero, no colon,
	// no trailing comma, a length over MaxLength). Twisted's
	// NetstringParseError.
	ErrNetstringParse = errors.New("basic: netstring parse error")

	// ErrStringTooLong is returned by SendString for a string whose length
	// does not fit the prefix: Twisted's StringTooLongError. Nothing is
	// written.
	ErrStringTooLong = errors.New("basic: string too long for its length prefix")
)
