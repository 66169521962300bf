package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // decode PNG input as well as JPEG
	"time"

	"golang.org/x/image/draw"
)

// Request is the function's event.
type Request struct {
	// Image is the source image, base64 JPEG or PNG.
	Image string `json:"image"`
	// Widths are the thumbnail widths in pixels (1..4096); the height keeps
	// the aspect ratio. Default [128].
	Widths []int `json:"widths"`
	// Quality is the JPEG quality of the thumbnails (1..100, default 80).
	Quality int `json:"quality"`
	// IncludeData returns each thumbnail's bytes (base64); otherwise only
	// their size and digest.
	IncludeData bool `json:"include_data"`
}

// Thumbnail is one scaled image.
type Thumbnail struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
	Data   string `json:"data,omitempty"`
}

// Response is the function's answer.
type Response struct {
	SourceWidth  int         `json:"source_width"`
	SourceHeight int         `json:"source_height"`
	SourceFormat string      `json:"source_format"`
	Thumbnails   []Thumbnail `json:"thumbnails"`
	DurationMs   float64     `json:"duration_ms"`
}

// Limits of a request.
const (
	maxWidth   = 4096
	maxWidths  = 16
	maxPixels  = 40_000_000
	defaultQ   = 80
	defaultWid = 128
)

func handle(ctx context.Context, req Request) (Response, error) {
	start := time.Now()
	if req.Image == "" {
		return Response{}, errors.New("image is required (base64 JPEG or PNG)")
	}
	if len(req.Widths) == 0 {
		req.Widths = []int{defaultWid}
	}
	if len(req.Widths) > maxWidths {
		return Response{}, fmt.Errorf("at most %d widths, got %d", maxWidths, len(req.Widths))
	}
	for _, w := range req.Widths {
		if w < 1 || w > maxWidth {
			return Response{}, fmt.Errorf("width %d out of 1..%d", w, maxWidth)
		}
	}
	if req.Quality == 0 {
		req.Quality = defaultQ
	}
	if req.Quality < 1 || req.Quality > 100 {
		return Response{}, fmt.Errorf("quality %d out of 1..100", req.Quality)
	}
	raw, err := base64.StdEncoding.DecodeString(req.Image)
	if err != nil {
		return Response{}, fmt.Errorf("image is not base64: %w", err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return Response{}, fmt.Errorf("image is not a JPEG or PNG: %w", err)
	}
	if cfg.Width*cfg.Height > maxPixels {
		return Response{}, fmt.Errorf("image of %d×%d pixels is larger than %d pixels", cfg.Width, cfg.Height, maxPixels)
	}
	src, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return Response{}, fmt.Errorf("decode %s: %w", format, err)
	}
	resp := Response{SourceWidth: cfg.Width, SourceHeight: cfg.Height, SourceFormat: format}
	for _, w := range req.Widths {
		if err := ctx.Err(); err != nil {
			return Response{}, err
		}
		t, err := scale(src, w, req.Quality, req.IncludeData)
		if err != nil {
			return Response{}, err
		}
		resp.Thumbnails = append(resp.Thumbnails, t)
	}
	resp.DurationMs = float64(time.Since(start).Microseconds()) / 1000
	return resp, nil
}

// scale resizes src to width w (keeping the aspect ratio) and encodes it as JPEG.
func scale(src image.Image, w, quality int, withData bool) (Thumbnail, error) {
	b := src.Bounds()
	h := max(1, b.Dy()*w/max(1, b.Dx()))
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: quality}); err != nil {
		return Thumbnail{}, fmt.Errorf("encode %d×%d thumbnail: %w", w, h, err)
	}
	sum := sha256.Sum256(out.Bytes())
	t := Thumbnail{Width: w, Height: h, Bytes: out.Len(), SHA256: hex.EncodeToString(sum[:])}
	if withData {
		t.Data = base64.StdEncoding.EncodeToString(out.Bytes())
	}
	return t, nil
}
