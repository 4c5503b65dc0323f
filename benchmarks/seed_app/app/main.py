# ruff: noqa
"""
FastAPI application main entry point.
File: backend/app/main.py
"""
from fastapi import FastAPI
from app.routers import task  # Import task router

# ... other imports

app = FastAPI(title="TODO API")

# Include task router
app.include_router(task.router)

# ... other routers and middleware

@app.get("/")
def read_root():
    return {"message": "TODO API"}
