package cooperate

// LaneOf returns the index of the lane that holds task, a task of a
// Cooperator with lanes, or -1 if none does (it is on its way to one, or has
// finished). Called from one of the task's steps, it names the lane running
// the step.
func LaneOf(task *Task) int {
	lt := task.onLanes()
	if lt == nil {
		panic("cooperate: LaneOf: not a task on lanes")
	}
	if l := lt.home.Load(); l != nil {
		return l.index
	}
	return -1
}
