"""finger.py with a getUser that answers 50 ms later, as one that asked
another server would (the finger tutorial's own reason for the Deferred).

The lookups made while an answer is pending join it, and all of them are
answered in the same turn of the reactor, as a reply from another server
carrying them all would be. The tests of examples/finger run it beside a Go
server whose lookups answer the same way, to show the one way the two
differ: two lines in one chunk are both looked up, and Twisted sends the
second answer as well, since it is written before the first has gone out;
twine drops every write made after loseConnection.

    python3 examples/finger/twisted/finger_later.py 1079
"""

import sys

from twisted.internet import defer, reactor

import finger


class LaterFingerFactory(finger.FingerFactory):
    def __init__(self, users):
        super().__init__(users)
        self.pending = []

    def getUser(self, user):
        d = defer.Deferred()
        if not self.pending:
            reactor.callLater(0.05, self.answerPending)
        self.pending.append((user, d))
        return d

    def answerPending(self):
        pending, self.pending = self.pending, []
        for user, d in pending:
            d.callback(self.users.get(user, b"No such user"))


if __name__ == "__main__":
    sys.exit(finger.main(sys.argv, LaterFingerFactory(finger.USERS)))
