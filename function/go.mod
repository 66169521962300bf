module lambdabench/function

go 1.26.8

require (
	github.com/aws/aws-lambda-go v1.55.1
	golang.org/x/crypto v0.58.0
)
