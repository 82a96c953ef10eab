package v1alpha1

const (
	// Finalizer holds an Order whose saga is in flight, or whose policy is Compensate,
	// until its compensations are done.
	Finalizer = "saga.kubesaga.io/finalizer"
	// RetryAnnotation asks for a failed or stalled step to be retried at once; the operator
	// removes it when taken.
	RetryAnnotation = "saga.kubesaga.io/retry"
)
