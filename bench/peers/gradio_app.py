"""The Gradio peer: gr.ChatInterface with a generator that yields the growing answer, streaming from
the bench's fake upstream through the openai SDK (OPENAI_BASE_URL)."""

import os

import gradio as gr
import openai

client = openai.OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="sk-bench")


def respond(message, history):
    stream = client.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": message}], stream=True
    )
    text = ""
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
            yield text


gr.ChatInterface(respond).launch(server_name="127.0.0.1", server_port=int(os.environ["PORT"]))
