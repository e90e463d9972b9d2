// Package scheduler holds the contracts that the rest of twine runs on:
// [Clock] (Twisted's IReactorTime), [Call] (Twisted's IDelayedCall) and
// [Loop] (a Clock that also runs functions soon, one at a time).
//
// It is the lowest layer of twine and imports none of the others.
package scheduler
