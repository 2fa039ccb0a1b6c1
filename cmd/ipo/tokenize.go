package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"ipo/internal/chat"
)

func init() {
	commands["tokenize"] = command{summary: "print the token ids and pieces of texts", run: runTokenize}
	commands["template"] = command{summary: "print a conversation rendered with the model's chat template", run: runTemplate}
}

// tokenizeRecord is one output line of `ipo tokenize`.
type tokenizeRecord struct {
	Text   string   `json:"text"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens"`
}

func runTokenize(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("tokenize", "--model DIR [TEXT ...]   (without TEXT: JSON lines with a \"text\" field on stdin)")
	modelArg := fs.String("model", "", "model folder, tokenizer folder or Hugging Face id (required)")
	addSpecial := fs.Bool("add-special-tokens", true, "add the post-processor's tokens (BOS/EOS), as Hugging Face does by default")
	plain := fs.Bool("plain", false, "encode special-token strings in the text as plain text, as ipo encodes prompts and responses")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if err := requireFlag(fs, "model", *modelArg); err != nil {
		return err
	}
	tok, _, err := loadTokenizer(ctx, *modelArg)
	if err != nil {
		return err
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	emit := func(text string) error {
		var ids []int
		if *plain {
			ids = tok.Encode(tok.EscapeSpecial(text), *addSpecial)
		} else {
			ids = tok.Encode(text, *addSpecial)
		}
		return enc.Encode(tokenizeRecord{Text: text, IDs: ids, Tokens: tok.Tokens(ids)})
	}

	if fs.NArg() > 0 {
		for _, text := range fs.Args() {
			if err := emit(text); err != nil {
				return err
			}
		}
		return nil
	}

	scanner := bufio.NewScanner(input(ctx))
	scanner.Buffer(make([]byte, 1<<20), 1<<30)
	for line := 1; scanner.Scan(); line++ {
		if strings.TrimSpace(scanner.Text()) == "" {
			continue
		}
		var row struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &row); err != nil {
			return fmt.Errorf("stdin line %d: invalid JSON: %v (give one object with a \"text\" field per line)", line, err)
		}
		if row.Text == nil {
			return fmt.Errorf("stdin line %d: missing string field \"text\"", line)
		}
		if err := emit(*row.Text); err != nil {
			return err
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return nil
}

func runTemplate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("template", "--model DIR --messages FILE [--add-generation-prompt]")
	modelArg := fs.String("model", "", "model folder, tokenizer folder or Hugging Face id (required)")
	messagesPath := fs.String("messages", "", "JSON file with an array of {role, content} messages (required)")
	addGen := fs.Bool("add-generation-prompt", false, "end with the header of an assistant turn, as before generation")
	templateChoice := fs.String("chat-template", "auto", "auto (the model's own) or a template FILE")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if err := requireFlag(fs, "model", *modelArg); err != nil {
		return err
	}
	if err := requireFlag(fs, "messages", *messagesPath); err != nil {
		return err
	}

	tok, dir, err := loadTokenizer(ctx, *modelArg)
	if err != nil {
		return err
	}
	enc, err := newPromptEncoder(tok, dir, *templateChoice)
	if err != nil {
		return err
	}
	if enc.template == nil {
		return fmt.Errorf("%s has no chat template (tokenizer_config.json has no chat_template); give --chat-template FILE", dir)
	}
	messages, err := chat.ReadMessages(*messagesPath)
	if err != nil {
		return err
	}
	text, err := enc.template.Render(messages, chat.Options{AddGenerationPrompt: *addGen})
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, text)
	return err
}
