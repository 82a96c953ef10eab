package saga

// Reasons carried by Action.Reason and Summary.Reason. They are CamelCase so that the
// reconciler can use them verbatim as Event and Condition reasons.
const (
	ReasonStepRefused          = "StepRefused"          // a compensatable step or the pivot was refused
	ReasonAttemptsExhausted    = "AttemptsExhausted"    // a compensatable step or the pivot failed transiently MaxAttempts times
	ReasonDeadlineExceeded     = "DeadlineExceeded"     // State.Deadline passed before the pivot succeeded
	ReasonAborted              = "Aborted"              // State.Abort: undo everything (deletion)
	ReasonCompensationRefused  = "CompensationRefused"  // a participant refused an undo (4xx): a person must act
	ReasonRetriableStepRefused = "RetriableStepRefused" // a participant refused a step after the pivot (4xx): a person must act
)
