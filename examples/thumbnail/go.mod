module lambdabench/examples/thumbnail

go 1.26.8

require (
	github.com/aws/aws-lambda-go v1.55.1
	golang.org/x/image v0.46.0
)
