package locallambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// serveAPIGateway is the API Gateway REST API (Lambda proxy integration) in front of the routes.
// Errors are API Gateway's: 403 Missing Authentication Token for an unknown route, 429 when the
// function is throttled, 502 for a function error or a malformed proxy response, 504 past the
// integration timeout.
func (s *Server) serveAPIGateway(w http.ResponseWriter, r *http.Request) {
	received := time.Now()
	requestID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", requestID)
	path := r.URL.Path
	if p, ok := strings.CutPrefix(path, "/"+Stage+"/"); ok {
		path = "/" + p
	}
	route, ok := s.matchRoute(r.Method, path)
	if !ok {
		gatewayError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	// An LMI function's route runs what its unqualified invocations run: $LATEST.PUBLISHED (an
	// Active version: a newly published one takes over once Active).
	f, _, _, _ := s.resolve(route.Function, "", true)
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20+1))
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "BadRequestException", "Invalid request body")
		return
	}
	if len(body) > 10<<20 {
		gatewayError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request Too Long")
		return
	}
	event := proxyEvent(r, route, path, body, requestID, received)
	payload, err := json.Marshal(event)
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.IntegrationTimeout)
	defer cancel()
	inv := newInvocation(FunctionARN(route.Function), payload, false)
	res, err := f.invoke(ctx, inv)
	switch {
	case errors.Is(err, errThrottled):
		gatewayError(w, http.StatusTooManyRequests, "ThrottledException", "Too Many Requests")
		return
	case errors.Is(err, context.DeadlineExceeded):
		gatewayError(w, http.StatusGatewayTimeout, "IntegrationTimeout", "Endpoint request timed out")
		return
	case err != nil:
		if r.Context().Err() == nil {
			gatewayError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
		}
		return
	}
	if res.functionError != "" {
		gatewayError(w, http.StatusBadGateway, "InternalServerErrorException", "Internal server error")
		return
	}
	resp, ok := parseProxyResponse(res.payload)
	if !ok {
		s.logf("%s: malformed Lambda proxy response: %.200s", route.Function, res.payload)
		gatewayError(w, http.StatusBadGateway, "InternalServerErrorException", "Internal server error")
		return
	}
	out := resp.body
	h := w.Header()
	for k, vs := range resp.headers {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("X-Amzn-Trace-Id", strings.SplitN(inv.traceID, ";", 2)[0])
	w.WriteHeader(resp.status)
	_, _ = w.Write(out)
}

func gatewayError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": msg})
	_, _ = w.Write(b)
}

func (s *Server) matchRoute(method, path string) (Route, bool) {
	for _, r := range s.routes {
		if r.Path != path {
			continue
		}
		if r.Method == "" || r.Method == "ANY" || strings.EqualFold(r.Method, method) {
			return r, true
		}
	}
	return Route{}, false
}

// proxyEvent is the REST API proxy integration's event for an HTTP request.
func proxyEvent(r *http.Request, route Route, path string, body []byte, requestID string, received time.Time) events.APIGatewayProxyRequest {
	headers := map[string]string{}
	multiHeaders := map[string][]string{}
	for k, vs := range r.Header {
		headers[k] = vs[len(vs)-1]
		multiHeaders[k] = append([]string(nil), vs...)
	}
	headers["Host"] = r.Host
	multiHeaders["Host"] = []string{r.Host}
	var query map[string]string
	var multiQuery map[string][]string
	if q := r.URL.Query(); len(q) > 0 {
		query, multiQuery = map[string]string{}, map[string][]string{}
		for k, vs := range q {
			query[k] = vs[len(vs)-1]
			multiQuery[k] = vs
		}
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	e := events.APIGatewayProxyRequest{
		Resource:                        route.Path,
		Path:                            path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multiHeaders,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         Account,
			ResourceID:        "local",
			Stage:             Stage,
			RequestID:         requestID,
			ExtendedRequestID: requestID,
			DomainName:        r.Host,
			APIID:             "local",
			ResourcePath:      route.Path,
			HTTPMethod:        r.Method,
			Path:              "/" + Stage + path,
			Protocol:          r.Proto,
			RequestTime:       received.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch:  received.UnixMilli(),
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			e.Body = string(body)
		} else {
			e.Body = base64.StdEncoding.EncodeToString(body)
			e.IsBase64Encoded = true
		}
	}
	return e
}

type proxyResponse struct {
	status  int
	headers map[string][]string
	body    []byte
}

// parseProxyResponse maps a function's proxy response back to HTTP; ok is false for a response
// API Gateway would call malformed (not an object, no valid statusCode, wrong field types, or a
// body that is not valid base64 when isBase64Encoded).
func parseProxyResponse(payload []byte) (proxyResponse, bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil || raw == nil {
		return proxyResponse{}, false
	}
	if _, ok := raw["statusCode"]; !ok {
		return proxyResponse{}, false
	}
	var v events.APIGatewayProxyResponse
	if err := json.Unmarshal(payload, &v); err != nil {
		return proxyResponse{}, false
	}
	if v.StatusCode < 100 || v.StatusCode > 599 {
		return proxyResponse{}, false
	}
	out := proxyResponse{status: v.StatusCode, headers: map[string][]string{}, body: []byte(v.Body)}
	for k, vs := range v.MultiValueHeaders {
		out.headers[k] = append(out.headers[k], vs...)
	}
	for k, val := range v.Headers {
		if _, dup := v.MultiValueHeaders[k]; !dup {
			out.headers[k] = append(out.headers[k], val)
		}
	}
	if v.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(v.Body)
		if err != nil {
			return proxyResponse{}, false
		}
		out.body = b
	}
	return out, true
}
