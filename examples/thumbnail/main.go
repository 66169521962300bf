// Command thumbnail is an example Lambda function to tune: it takes an image
// (base64 JPEG or PNG in the request), scales it to one or more widths with
// Catmull-Rom resampling (golang.org/x/image/draw) and returns each
// thumbnail as base64 JPEG with its size and SHA-256. It is CPU-bound, so
// its duration falls as memory buys more CPU until a single decode-resize
// pipeline cannot use more — what tuning is meant to find.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(handle)
}
