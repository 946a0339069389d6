"""The Streamlit peer: the framework's own chat tutorial (st.chat_input, st.write_stream), streaming
from the bench's fake upstream through the openai SDK (OPENAI_BASE_URL)."""

import os

import openai
import streamlit as st

client = openai.OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="sk-bench")

if "messages" not in st.session_state:
    st.session_state.messages = []
for message in st.session_state.messages:
    with st.chat_message(message["role"]):
        st.markdown(message["content"])

if prompt := st.chat_input("Ask"):
    st.session_state.messages.append({"role": "user", "content": prompt})
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        stream = client.chat.completions.create(model="fake-model", messages=st.session_state.messages, stream=True)
        response = st.write_stream(stream)
    st.session_state.messages.append({"role": "assistant", "content": response})
