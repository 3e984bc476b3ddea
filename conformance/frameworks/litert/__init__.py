"""litert: a Keras GRU converted by TensorFlow's TFLite converter and run by ai-edge-litert's interpreter."""
