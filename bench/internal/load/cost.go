package load

// CostEstimate is what the traffic sent to one endpoint would cost on AWS.
type CostEstimate struct{}
