"""The Chainlit peer: @cl.on_message streaming each token with Message.stream_token, from the
bench's fake upstream through the async openai SDK (OPENAI_BASE_URL)."""

import os

import chainlit as cl
import openai

client = openai.AsyncOpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="sk-bench")


@cl.on_message
async def main(message: cl.Message):
    reply = cl.Message(content="")
    stream = await client.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": message.content}], stream=True
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            await reply.stream_token(chunk.choices[0].delta.content)
    await reply.send()
