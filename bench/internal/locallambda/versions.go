package locallambda

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Versions, aliases and code updates: the part of the Lambda API that tuning a function uses
// (PublishVersion, ListVersionsByFunction, CreateAlias, GetAlias, UpdateAlias, DeleteAlias,
// ListAliases, DeleteFunction of a version, UpdateFunctionCode with Architectures,
// ListProvisionedConcurrencyConfigs), answered in the shapes the Lambda API documents so that the
// SDKs, boto3 and the AWS CLI accept them.
//
// A published version is a frozen copy of $LATEST's configuration and code with environments of
// its own: invoking it (Qualifier or an alias) never touches $LATEST's environments, and a change
// to $LATEST never reaches it, as on Lambda. Code uploaded with UpdateFunctionCode is unpacked
// into a folder of the server's that Close removes.

// versionEnvIDBase separates the environment numbers of versions from $LATEST's (they name
// cgroups and log lines): version N numbers its environments from N×versionEnvIDBase.
const versionEnvIDBase = 1_000_000

// latestPublishedEnvIDBase numbers the environments of the versions published to
// $LATEST.PUBLISHED: the g-th from latestPublishedEnvIDBase + g×versionEnvIDBase.
const latestPublishedEnvIDBase = 1_000_000_000_000

// latestPublished is the qualifier of an LMI function's version published with PublishTo
// LATEST_PUBLISHED: what its unqualified invocations run.
const latestPublished = "$LATEST.PUBLISHED"

// published is what a function has published: versions and aliases.
type published struct {
	last     int                  // the highest version number ever published
	versions map[string]*function // "1", "2", …
	aliases  map[string]*alias

	// LMI, PublishTo LATEST_PUBLISHED: latest is the version published to $LATEST.PUBLISHED last
	// (what its configuration and scaling config APIs see), serving the one invocations run: the
	// previous one until latest is Active. Both nil: $LATEST's own environments serve.
	latest, serving *function
	publishes       int // publishes to $LATEST.PUBLISHED so far (numbers environments)
	// draining: former $LATEST.PUBLISHED versions whose environments are still stopping, closed
	// with the server; each is dropped once its last environment is gone (pruneDraining).
	draining []*function
}

// pruneDraining drops the former $LATEST.PUBLISHED versions that have no environment left; the
// vCPUs their busy environments had go to goneBusy (for BusyVCPUs). r.mu is held.
func (r *registry) pruneDraining(p *published) {
	kept := p.draining[:0]
	for _, f := range p.draining {
		if gone, ok := f.retireIfEmpty(); ok {
			r.goneBusy += gone
			continue
		}
		kept = append(kept, f)
	}
	clear(p.draining[len(kept):])
	p.draining = kept
}

type alias struct {
	Name, Version, Description string
	revision                   int
}

// registry holds every function's versions and aliases, and the folders of uploaded code.
type registry struct {
	mu     sync.Mutex
	byName map[string]*published
	dirs   []string
	// goneBusy is the vCPUs of environments busy since the last BusyVCPUs of the draining
	// versions dropped since (see function.goneBusy).
	goneBusy float64
}

func (r *registry) of(name string) *published {
	if r.byName == nil {
		r.byName = map[string]*published{}
	}
	p := r.byName[name]
	if p == nil {
		p = &published{versions: map[string]*function{}, aliases: map[string]*alias{}}
		r.byName[name] = p
	}
	return p
}

// resolveQualifier finds the published version a qualifier (a version number or an alias name)
// names.
func (s *Server) resolveQualifier(name, qualifier string) (*function, bool) {
	s.registry.mu.Lock()
	defer s.registry.mu.Unlock()
	p := s.registry.of(name)
	if a, ok := p.aliases[qualifier]; ok {
		qualifier = a.Version
	}
	f, ok := p.versions[qualifier]
	return f, ok
}

// latestPublishedOf is the version published to $LATEST.PUBLISHED last (even while Pending); nil
// before any was.
func (s *Server) latestPublishedOf(name string) *function {
	s.registry.mu.Lock()
	defer s.registry.mu.Unlock()
	return s.registry.of(name).latest
}

// servingOf is what a function's unqualified invocations run: the version published to
// $LATEST.PUBLISHED that serves them or, before any is Active (and for a standard function),
// $LATEST. nil for an unknown function. It takes no lock.
func (s *Server) servingOf(name string) *function {
	base := s.functions[name]
	if base == nil {
		return nil
	}
	if lp := base.latestPublished.Load(); lp != nil {
		return lp
	}
	return base
}

// versionsLocked returns every published function version that may have environments, in no
// particular order: numbered versions, $LATEST.PUBLISHED ones and, with draining, the former ones
// still stopping (those whose environments are all gone are dropped on the way). s.registry.mu
// is held.
func (s *Server) versionsLocked(draining bool) []*function {
	var fns []*function
	for _, p := range s.registry.byName {
		for _, f := range p.versions {
			fns = append(fns, f)
		}
		// latest and serving are distinct from the numbered versions and from draining ones.
		if p.latest != nil {
			fns = append(fns, p.latest)
		}
		if p.serving != nil && p.serving != p.latest {
			fns = append(fns, p.serving)
		}
		s.registry.pruneDraining(p)
		if draining {
			fns = append(fns, p.draining...)
		}
	}
	return fns
}

// closeVersions stops every published version's environments and removes uploaded code.
func (s *Server) closeVersions() error {
	s.registry.mu.Lock()
	fns := s.versionsLocked(true)
	dirs := s.registry.dirs
	s.registry.dirs = nil
	s.registry.mu.Unlock()
	for _, f := range fns {
		f.close()
	}
	var err error
	for _, d := range dirs {
		if e := os.RemoveAll(d); e != nil && err == nil {
			err = fmt.Errorf("remove uploaded code: %w", e)
		}
	}
	return err
}

func (s *Server) registerVersionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /2015-03-31/functions/{name}/versions", s.handlePublishVersion)
	mux.HandleFunc("GET /2015-03-31/functions/{name}/versions", s.handleListVersions)
	mux.HandleFunc("POST /2015-03-31/functions/{name}/aliases", s.handleCreateAlias)
	mux.HandleFunc("GET /2015-03-31/functions/{name}/aliases", s.handleListAliases)
	mux.HandleFunc("GET /2015-03-31/functions/{name}/aliases/{alias}", s.handleGetAlias)
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/aliases/{alias}", s.handleUpdateAlias)
	mux.HandleFunc("DELETE /2015-03-31/functions/{name}/aliases/{alias}", s.handleDeleteAlias)
	mux.HandleFunc("DELETE /2015-03-31/functions/{name}", s.handleDeleteFunction)
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/code", s.handleUpdateCode)
	mux.HandleFunc("GET /2019-09-30/functions/{name}/provisioned-concurrency", s.handleListProvisioned)
	mux.HandleFunc("GET /_local/code/{name}", s.handleDownloadCode)
}

// latest finds a function's $LATEST by name or ARN (a qualifier in the ARN is ignored).
func (s *Server) latest(w http.ResponseWriter, r *http.Request) (*function, bool) {
	f, name, ok := s.lookup(r.PathValue("name"), "")
	if !ok {
		notFound(w, name)
		return nil, false
	}
	return f, true
}

// capScaling caps an LMI version's Min and MaxEnvironments to MaxVersionEnvironments, as
// setScaling applies a FunctionScalingConfig (the requested bounds are kept apart).
func capScaling(spec FunctionSpec) FunctionSpec {
	if spec.Mode == LMI {
		spec.MinEnvironments = min(spec.MinEnvironments, MaxVersionEnvironments)
		spec.MaxEnvironments = min(spec.MaxEnvironments, MaxVersionEnvironments)
	}
	return spec
}

// newPublished is a just-published version of spec: an LMI one is Pending (see activate).
func newPublished(s *Server, spec FunctionSpec) *function {
	vf := newFunction(s, spec)
	if spec.Mode == LMI {
		vf.state, vf.stateReason, vf.stateReasonCode = statePending, "Lambda is starting the version's execution environments.", "Creating"
	}
	return vf
}

// handlePublishVersion publishes $LATEST as a numbered version or, for an LMI function with
// PublishTo LATEST_PUBLISHED, as $LATEST.PUBLISHED. An LMI version is Pending until its minimum
// environments have started (see activate).
func (s *Server) handlePublishVersion(w http.ResponseWriter, r *http.Request) {
	f, ok := s.latest(w, r)
	if !ok {
		return
	}
	var req struct {
		Description *string `json:"Description"`
		CodeSha256  *string `json:"CodeSha256"`
		RevisionID  *string `json:"RevisionId"`
		PublishTo   *string `json:"PublishTo"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	spec := f.currentSpec()
	toLatest := req.PublishTo != nil
	if toLatest && *req.PublishTo != "LATEST_PUBLISHED" {
		// The model's enum, which no SDK checks on the client: the service's validation error.
		apiError(w, http.StatusBadRequest, "ValidationException", "",
			fmt.Sprintf("1 validation error detected: Value '%s' at 'publishTo' failed to satisfy constraint: Member must satisfy enum value set: [LATEST_PUBLISHED]", *req.PublishTo))
		return
	}
	if toLatest && spec.Mode != LMI {
		// The local Lambda's choice (AWS documents $LATEST.PUBLISHED for Lambda Managed Instances
		// only): a standard function has no $LATEST.PUBLISHED to publish to.
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "",
			"PublishTo LATEST_PUBLISHED is for functions with a capacity provider: "+spec.Name+" was not created with one")
		return
	}
	if req.RevisionID != nil && *req.RevisionID != f.revisionID() {
		preconditionFailed(w)
		return
	}
	if sha, _ := codeDigest(spec.Binary); req.CodeSha256 != nil && *req.CodeSha256 != sha {
		apiError(w, http.StatusPreconditionFailed, "InvalidParameterValueException", "",
			"CodeSHA256 ("+*req.CodeSha256+") is different from current CodeSHA256 in $LATEST ("+sha+"). Please try again with the CodeSHA256 in $LATEST.")
		return
	}
	if req.Description != nil {
		spec.description = *req.Description
	}
	var orphan *function // a $LATEST.PUBLISHED replaced before it ever served
	s.registry.mu.Lock()
	p := s.registry.of(spec.Name)
	var vf *function
	if toLatest {
		p.publishes++
		spec.version = latestPublished
		prev := p.latest
		if prev != nil {
			// The qualifier keeps its scaling config from one publish to the next.
			prevSpec := prev.currentSpec()
			spec.MinEnvironments, spec.MaxEnvironments = prevSpec.MinEnvironments, prevSpec.MaxEnvironments
		}
		src := prev // whose scaling config $LATEST.PUBLISHED had: $LATEST's before any publish
		if src == nil {
			src = f
		}
		src.mu.Lock()
		reqMin, reqMax := src.requestedMin, src.requestedMax
		src.mu.Unlock()
		vf = newPublished(s, capScaling(spec))
		vf.nextEnvID = latestPublishedEnvIDBase + p.publishes*versionEnvIDBase
		vf.requestedMin, vf.requestedMax = reqMin, reqMax
		if prev != nil && prev != p.serving {
			orphan = prev
			p.draining = append(p.draining, prev)
		}
		p.latest = vf
	} else {
		p.last++
		spec.version = strconv.Itoa(p.last)
		vf = newPublished(s, capScaling(spec))
		vf.requestedMin, vf.requestedMax = spec.MinEnvironments, spec.MaxEnvironments
		vf.nextEnvID = p.last * versionEnvIDBase
		p.versions[spec.version] = vf
	}
	s.registry.mu.Unlock()
	s.logf("%s: published version %s (%d MB, %s)", spec.Name, spec.version, spec.MemoryMB, spec.Architecture)
	if orphan != nil {
		orphan.drain()
	}
	out := vf.configuration()
	if spec.Mode == LMI {
		var then func() bool
		if toLatest {
			then = func() bool { return s.serveLatestPublished(f, vf) }
		}
		s.activate(vf, then)
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleListVersions(w http.ResponseWriter, r *http.Request) {
	f, ok := s.latest(w, r)
	if !ok {
		return
	}
	name := f.spec0.Name
	out := struct {
		Versions   []functionConfiguration `json:"Versions"`
		NextMarker *string                 `json:"NextMarker,omitempty"`
	}{Versions: []functionConfiguration{f.configuration()}}
	s.registry.mu.Lock()
	p := s.registry.of(name)
	nums := make([]int, 0, len(p.versions))
	for k := range p.versions {
		n, _ := strconv.Atoi(k)
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var vfs []*function
	for _, n := range nums {
		vfs = append(vfs, p.versions[strconv.Itoa(n)])
	}
	s.registry.mu.Unlock()
	for _, vf := range vfs {
		out.Versions = append(out.Versions, vf.configuration())
	}
	writeJSON(w, http.StatusOK, out)
}

// aliasConfiguration is the AliasConfiguration shape of the Lambda API.
type aliasConfiguration struct {
	AliasArn        string `json:"AliasArn"`
	Name            string `json:"Name"`
	FunctionVersion string `json:"FunctionVersion"`
	Description     string `json:"Description"`
	RevisionID      string `json:"RevisionId"`
}

func (a *alias) configuration(function string) aliasConfiguration {
	return aliasConfiguration{
		AliasArn: FunctionARN(function) + ":" + a.Name, Name: a.Name, FunctionVersion: a.Version,
		Description: a.Description, RevisionID: revisionString(function+":"+a.Name, a.revision),
	}
}

// aliasNameRE is Lambda's rule for alias names: not only digits, letters first.
var aliasNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,127}$`)

func (s *Server) handleCreateAlias(w http.ResponseWriter, r *http.Request) {
	f, ok := s.latest(w, r)
	if !ok {
		return
	}
	var req struct {
		Name            string `json:"Name"`
		FunctionVersion string `json:"FunctionVersion"`
		Description     string `json:"Description"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	name := f.spec0.Name
	if !aliasNameRE.MatchString(req.Name) {
		apiError(w, http.StatusBadRequest, "ValidationException", "",
			fmt.Sprintf("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)", req.Name))
		return
	}
	s.registry.mu.Lock()
	p := s.registry.of(name)
	if _, dup := p.aliases[req.Name]; dup {
		s.registry.mu.Unlock()
		apiError(w, http.StatusConflict, "ResourceConflictException", "", "Alias already exists: "+FunctionARN(name)+":"+req.Name)
		return
	}
	if _, ok := p.versions[req.FunctionVersion]; !ok && req.FunctionVersion != "$LATEST" {
		s.registry.mu.Unlock()
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "", "Function not found: "+FunctionARN(name)+":"+req.FunctionVersion)
		return
	}
	a := &alias{Name: req.Name, Version: req.FunctionVersion, Description: req.Description, revision: 1}
	p.aliases[req.Name] = a
	out := a.configuration(name)
	s.registry.mu.Unlock()
	s.logf("%s: alias %s → version %s", name, req.Name, req.FunctionVersion)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleGetAlias(w http.ResponseWriter, r *http.Request) {
	f, ok := s.latest(w, r)
	if !ok {
		return
	}
	name := f.spec0.Name
	s.registry.mu.Lock()
	a, found := s.registry.of(name).aliases[r.PathValue("alias")]
	var out aliasConfiguration
	if found {
		out = a.configuration(name)
	}
	s.registry.mu.Unlock()
	if !found {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "", "Alias not found: "+FunctionARN(name)+":"+r.PathValue("alias"))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleUpdateAlias(w http.ResponseWriter, r *http.Request) {
	f, ok := s.latest(w, r)
	if !ok {
		return
	}
	var req struct {
		FunctionVersion *string `json:"FunctionVersion"`
		Description     *string `json:"Description"`
		RevisionID      *string `json:"RevisionId"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	name, aliasName := f.spec0.Name, r.PathValue("alias")
	s.registry.mu.Lock()
	p := s.registry.of(name)
	a, found := p.aliases[aliasName]
	switch {
	case !found:
		s.registry.mu.Unlock()
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "", "Alias not found: "+FunctionARN(name)+":"+aliasName)
		return
	case req.RevisionID != nil && *req.RevisionID != a.configuration(name).RevisionID:
		s.registry.mu.Unlock()
		preconditionFailed(w)
		return
	}
	if req.FunctionVersion != nil {
		if _, ok := p.versions[*req.FunctionVersion]; !ok && *req.FunctionVersion != "$LATEST" {
			s.registry.mu.Unlock()
			apiError(w, http.StatusNotFound, "ResourceNotFoundException", "", "Function not found: "+FunctionARN(name)+":"+*req.FunctionVersion)
			return
		}
		a.Version = *req.FunctionVersion
	}
	if req.Description != nil {
		a.Description = *req.Description
	}
	a.revision++
	out := a.configuration(name)
	s.registry.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleDeleteAlias(w http.ResponseWriter, r *http.Request) {
	f, ok := s.latest(w, r)
	if !ok {
		return
	}
	name := f.spec0.Name
	s.registry.mu.Lock()
	// Lambda answers 204 whether or not the alias existed.
	delete(s.registry.of(name).aliases, r.PathValue("alias"))
	s.registry.mu.Unlock()
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListAliases(w http.ResponseWriter, r *http.Request) {
	f, ok := s.latest(w, r)
	if !ok {
		return
	}
	name := f.spec0.Name
	version := r.URL.Query().Get("FunctionVersion")
	out := struct {
		Aliases    []aliasConfiguration `json:"Aliases"`
		NextMarker *string              `json:"NextMarker,omitempty"`
	}{Aliases: []aliasConfiguration{}}
	s.registry.mu.Lock()
	for _, a := range s.registry.of(name).aliases {
		if version == "" || a.Version == version {
			out.Aliases = append(out.Aliases, a.configuration(name))
		}
	}
	s.registry.mu.Unlock()
	sort.Slice(out.Aliases, func(i, j int) bool { return out.Aliases[i].Name < out.Aliases[j].Name })
	writeJSON(w, http.StatusOK, out)
}

// handleDeleteFunction deletes a published version (DeleteFunction with a Qualifier). Deleting a
// whole function is refused: the local Lambda's functions are fixed when it starts.
func (s *Server) handleDeleteFunction(w http.ResponseWriter, r *http.Request) {
	f, ok := s.latest(w, r)
	if !ok {
		return
	}
	name, q := f.spec0.Name, r.URL.Query().Get("Qualifier")
	if q == "" || q == "$LATEST" {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "",
			"the local Lambda does not delete functions; pass Qualifier to delete a published version")
		return
	}
	s.registry.mu.Lock()
	p := s.registry.of(name)
	vf, found := p.versions[q]
	var using []string
	for _, a := range p.aliases {
		if a.Version == q {
			using = append(using, a.Name)
		}
	}
	if found && len(using) == 0 {
		delete(p.versions, q)
	}
	s.registry.mu.Unlock()
	switch {
	case !found:
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "", "Function not found: "+FunctionARN(name)+":"+q)
		return
	case len(using) > 0:
		sort.Strings(using)
		apiError(w, http.StatusConflict, "ResourceConflictException", "",
			fmt.Sprintf("Unable to delete version because the following aliases reference it: %v", using))
		return
	}
	vf.close() // its environments and its scaling config go with it
	s.logf("%s: deleted version %s", name, q)
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	w.WriteHeader(http.StatusNoContent)
}

// handleUpdateCode applies UpdateFunctionCode with a ZipFile (holding bootstrap) and,
// optionally, Architectures. The local Lambda runs the code whatever architecture it claims:
// code built for another architecture than this machine's fails when it starts, as the kernel
// refuses it.
func (s *Server) handleUpdateCode(w http.ResponseWriter, r *http.Request) {
	f, ok := s.latest(w, r)
	if !ok {
		return
	}
	var req struct {
		ZipFile       []byte   `json:"ZipFile"` // base64 in JSON, as the API sends it
		S3Bucket      *string  `json:"S3Bucket"`
		ImageURI      *string  `json:"ImageUri"`
		Architectures []string `json:"Architectures"`
		Publish       bool     `json:"Publish"`
		DryRun        bool     `json:"DryRun"`
		RevisionID    *string  `json:"RevisionId"`
	}
	if !decodeBodyLimit(w, r, &req, 70<<20) {
		return
	}
	if req.S3Bucket != nil || req.ImageURI != nil || len(req.ZipFile) == 0 {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", "the local Lambda takes code as ZipFile only")
		return
	}
	if req.RevisionID != nil && *req.RevisionID != f.revisionID() {
		preconditionFailed(w)
		return
	}
	arch := ""
	switch len(req.Architectures) {
	case 0:
	case 1:
		if a := req.Architectures[0]; a == "x86_64" || a == "arm64" {
			arch = a
			break
		}
		fallthrough
	default:
		apiError(w, http.StatusBadRequest, "ValidationException", "",
			fmt.Sprintf("1 validation error detected: Value '%v' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1, Member must satisfy enum value set: [x86_64, arm64]", req.Architectures))
		return
	}
	bin, err := s.unpackBootstrap(f.spec0.Name, req.ZipFile)
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", "Could not unzip uploaded file: "+err.Error())
		return
	}
	if req.DryRun {
		writeJSON(w, http.StatusOK, f.configuration())
		return
	}
	if _, err := f.update(func(spec *FunctionSpec) error {
		spec.Binary = bin
		if arch != "" {
			spec.Architecture = arch
		}
		return nil
	}); err != nil {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", err.Error())
		return
	}
	s.logf("%s: code updated (%s)", f.spec0.Name, f.currentSpec().Architecture)
	if req.Publish {
		s.handlePublishVersion(w, r.WithContext(r.Context()))
		return
	}
	writeJSON(w, http.StatusOK, f.configuration())
}

// unpackBootstrap writes the zip's bootstrap into a new folder and returns its path.
func (s *Server) unpackBootstrap(function string, zipFile []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipFile), int64(len(zipFile)))
	if err != nil {
		return "", err
	}
	for _, zf := range zr.File {
		if zf.Name != "bootstrap" {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return "", err
		}
		defer rc.Close()
		dir, err := os.MkdirTemp("", "locallambda-code-"+function+"-")
		if err != nil {
			return "", err
		}
		s.registry.mu.Lock()
		s.registry.dirs = append(s.registry.dirs, dir)
		s.registry.mu.Unlock()
		path := filepath.Join(dir, "bootstrap")
		out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
		if err != nil {
			return "", err
		}
		if _, err := io.Copy(out, io.LimitReader(rc, 250<<20)); err != nil {
			out.Close()
			return "", err
		}
		return path, out.Close()
	}
	return "", fmt.Errorf("the zip has no file named bootstrap (a provided.al2023 function's entry point)")
}

// handleDownloadCode serves a function's (or a version's) code as a zip holding bootstrap: the
// Code.Location of GetFunction, as AWS gives a presigned URL.
func (s *Server) handleDownloadCode(w http.ResponseWriter, r *http.Request) {
	f, name, ok := s.lookup(r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if !ok {
		notFound(w, name)
		return
	}
	b, err := os.ReadFile(f.currentSpec().Binary)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "ServiceException", "", "read code: "+err.Error())
		return
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Unix(0, 0)}
	hdr.SetMode(0o755)
	zf, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = zf.Write(b)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		apiError(w, http.StatusInternalServerError, "ServiceException", "", "zip code: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	_, _ = w.Write(buf.Bytes())
}

// handleListProvisioned answers ListProvisionedConcurrencyConfigs: the local Lambda has no
// provisioned concurrency.
func (s *Server) handleListProvisioned(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.latest(w, r); !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ProvisionedConcurrencyConfigs": []any{}})
}

func preconditionFailed(w http.ResponseWriter) {
	apiError(w, http.StatusPreconditionFailed, "PreconditionFailedException", "",
		"The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeBodyLimit(w, r, v, 1<<20)
}

func decodeBodyLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil || int64(len(b)) > limit {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "", "request body too large or unreadable")
		return false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return true
	}
	if err := json.Unmarshal(b, v); err != nil {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "", "invalid request body: "+err.Error())
		return false
	}
	return true
}

// versionName is the version the spec runs as: "$LATEST" or a published version's number.
func (f FunctionSpec) versionName() string {
	if f.version == "" {
		return "$LATEST"
	}
	return f.version
}
