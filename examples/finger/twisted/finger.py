"""The finger server of examples/finger, written for Twisted.

It behaves as the step "Use Deferreds" of Twisted's finger tutorial
("The Evolution of Finger: building a simple finger service", listing
finger08.py): the factory keeps the user database, the protocol asks it
for a user through a Deferred, answers on a line and closes.

It listens on 127.0.0.1, on the port given as its argument (0, the
default, lets the system choose), writes "listening on PORT" to its
standard output once it does, and serves until its standard input closes
or it is sent SIGTERM or SIGINT. The tests of examples/finger make the same
client exchanges with it and with the Go port.

    python3 examples/finger/twisted/finger.py 1079
"""

import sys

from twisted.internet import defer, endpoints, error, protocol, reactor, stdio
from twisted.protocols import basic

USERS = {b"moshez": b"Happy and well"}


class FingerProtocol(basic.LineReceiver):
    def lineReceived(self, user):
        d = self.factory.getUser(user)
        d.addErrback(lambda _: b"Internal error in server")

        def answer(status):
            self.sendLine(status)
            self.transport.loseConnection()

        d.addCallback(answer)


class FingerFactory(protocol.ServerFactory):
    protocol = FingerProtocol

    def __init__(self, users):
        self.users = users

    def getUser(self, user):
        return defer.succeed(self.users.get(user, b"No such user"))


class StopWhenClosed(protocol.Protocol):
    """Stops the reactor when standard input closes."""

    def connectionLost(self, reason):
        try:
            reactor.stop()
        except error.ReactorNotRunning:
            pass  # stopping already: a signal came first


def main(argv, factory=None):
    if factory is None:
        factory = FingerFactory(USERS)
    port = int(argv[1]) if len(argv) > 1 else 0
    endpoint = endpoints.TCP4ServerEndpoint(reactor, port, interface="127.0.0.1")

    def listening(listeningPort):
        print("listening on", listeningPort.getHost().port, flush=True)

    status = []

    def failed(failure):
        print("cannot listen:", failure.getErrorMessage(), file=sys.stderr, flush=True)
        status.append(1)
        reactor.callWhenRunning(reactor.stop)

    endpoint.listen(factory).addCallbacks(listening, failed)
    stdio.StandardIO(StopWhenClosed())
    reactor.run()
    return status[0] if status else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
