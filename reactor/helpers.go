package reactor

import (
	"os"
	"os/signal"
)

// startHelpers starts the goroutines that serve the reactor while it runs:
// the watchdog and the signal watcher. finish stops them and waits for them.
func (r *Reactor) startHelpers() {
	if w := r.wd; w != nil {
		r.bg.Go(func() { w.run(r.bgStop) })
		w.awake()
	}
	if len(r.cfg.signals) > 0 {
		// Notify before Run goes on, so that a signal sent once the reactor
		// runs is never missed.
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, r.cfg.signals...)
		r.bg.Go(func() {
			defer signal.Stop(ch)
			for {
				select {
				case s := <-ch:
					if r.Stop() == nil {
						r.log.Info("reactor: stopping on signal", "signal", s.String())
					}
				case <-r.bgStop:
					return
				}
			}
		})
	}
}
